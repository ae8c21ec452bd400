-- Full build, step 2 (input of versions.sql): the rows ingested <= $until of the event ids with several payloads.
-- reads: fact_events, agg.evtools_versions
-- makes: _version_rows
CREATE OR REPLACE TEMP TABLE _version_rows AS
SELECT CAST(NULL AS TIMESTAMP) AS as_of, event_id, company_id, date, events, ingested_at, version,
       CAST(NULL AS TIMESTAMP) AS key_t, CAST(NULL AS TIMESTAMP) AS event_ts
FROM fact_events
WHERE ingested_at <= $until
  AND event_id IN (SELECT event_id FROM agg.evtools_versions WHERE is_latest IS NULL)
