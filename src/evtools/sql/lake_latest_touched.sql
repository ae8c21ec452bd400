-- The state's partitions of the touched dates after the run: the stored versions the new rows do not supersede,
-- and the new latest versions.
CREATE OR REPLACE TEMP TABLE _latest_touched AS
SELECT l.event_id, l.company_id, l.date, l.events, l.ingested_at
FROM agg.evtools_latest l
WHERE l.date IN (SELECT date FROM _touched)
  AND l.event_id NOT IN (SELECT event_id FROM _cand)
UNION ALL
SELECT event_id, company_id, date, events, ingested_at FROM _cand
