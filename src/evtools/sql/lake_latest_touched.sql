-- The state's partitions of the touched dates after the run: the stored versions the new rows do not supersede,
-- and the new latest versions. _state_touched is the state's partitions of the dates in _touched, read by path.
CREATE OR REPLACE TEMP TABLE _latest_touched AS
SELECT l.event_id, l.company_id, l.date, l.events, l.ingested_at
FROM _state_touched l
WHERE l.event_id NOT IN (SELECT event_id FROM _cand)
UNION ALL
SELECT event_id, company_id, date, events, ingested_at FROM _cand
