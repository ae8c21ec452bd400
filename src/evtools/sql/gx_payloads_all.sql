-- The payloads (evtools.rules) of the event ids with more than one row in fact_events (any date, any ingestion
-- time), and of the rows without an event_id (grouped together, as the per-date batches group them): the only rows
-- that can form a duplicate group (gx_fact_duplicates_all.sql) or may need the latest-version rule
-- (gx_agg_version_rows_all.sql). n counts a payload's rows; n_by, first_by and version_by are its rows, first
-- arrival and greatest version among the rows ingested <= $until (the aggregate's watermark; n_by = 0 when no row
-- was, or when there is no aggregate: $until NULL).
-- The rows of repeated event ids are the shared pass's (_repeated_rows, kept per state of the sources); the rows
-- without an event_id are one filtered scan. Both batches share the result.
-- reads: fact_events, _repeated_rows
-- makes: _gx_payloads
CREATE OR REPLACE TEMP TABLE _gx_payloads AS
SELECT event_id, company_id, date, events, count(*) AS n,
       count(*) FILTER (WHERE ingested_at <= $until) AS n_by,
       min(ingested_at) FILTER (WHERE ingested_at <= $until) AS first_by,
       max(version) FILTER (WHERE ingested_at <= $until) AS version_by
FROM (
    SELECT event_id, company_id, date, events, ingested_at, version FROM _repeated_rows
    UNION ALL
    SELECT event_id, company_id, date, events, ingested_at, version FROM fact_events WHERE event_id IS NULL
) AS r
GROUP BY event_id, company_id, date, events
