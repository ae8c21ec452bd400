-- The fixed-window job (strategy lookback), step 1 (input of versions.sql): the rows ingested <= $until that lie on
-- the window's dates (date >= $since, see evtools.rules.lookback_since). Only these rows are deduplicated: rows
-- arriving for older dates are never seen, which is what this strategy misses.
-- reads: fact_events
-- makes: _version_rows
CREATE OR REPLACE TEMP TABLE _version_rows AS
SELECT CAST(NULL AS TIMESTAMP) AS as_of, event_id, company_id, date, events, ingested_at, version,
       CAST(NULL AS TIMESTAMP) AS key_t, CAST(NULL AS TIMESTAMP) AS event_ts
FROM fact_events
WHERE date >= $since AND ingested_at <= $until
