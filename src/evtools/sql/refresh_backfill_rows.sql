-- Backfill, step 1 (input of versions.sql): every row ingested by the watermark of the event ids with such a row
-- dated $first..$last: their latest versions as of the watermark decide those dates.
-- reads: fact_events
-- makes: _version_rows
CREATE OR REPLACE TEMP TABLE _version_rows AS
SELECT CAST(NULL AS TIMESTAMP) AS as_of, event_id, company_id, date, events, ingested_at, version,
       CAST(NULL AS TIMESTAMP) AS key_t, CAST(NULL AS TIMESTAMP) AS event_ts
FROM fact_events
WHERE ingested_at <= $watermark
  AND event_id IN (
      SELECT event_id FROM fact_events WHERE ingested_at <= $watermark AND date BETWEEN $first AND $last
  )
