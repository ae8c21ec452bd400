-- Full build, step 1 (input of versions.sql): the rows ingested <= $until of the event ids with more than one such
-- row. An event_id with one row is its own latest version; only these need the rule.
-- reads: fact_events
-- makes: _version_rows
CREATE OR REPLACE TEMP TABLE _version_rows AS
SELECT CAST(NULL AS TIMESTAMP) AS as_of, event_id, company_id, date, events, ingested_at, version,
       CAST(NULL AS TIMESTAMP) AS key_t, CAST(NULL AS TIMESTAMP) AS event_ts
FROM fact_events
WHERE ingested_at <= $until
  AND event_id IN (
      SELECT event_id FROM fact_events WHERE ingested_at <= $until GROUP BY event_id HAVING count(*) > 1
  )
