-- expectations batch "totals" of the aggregate for every date at once, step 1 (input of versions.sql): the rows
-- ingested <= $until of the event ids with more than one row (_gx_repeated). An id with a single row ingested by
-- $until is its own latest version: gx_agg_totals_all.sql takes its row out and puts it back, no total changes.
-- reads: fact_events, _gx_repeated
-- makes: _version_rows
CREATE OR REPLACE TEMP TABLE _version_rows AS
SELECT CAST(NULL AS TIMESTAMP) AS as_of, event_id, company_id, date, events, ingested_at, version,
       CAST(NULL AS TIMESTAMP) AS key_t, CAST(NULL AS TIMESTAMP) AS event_ts
FROM fact_events
WHERE ingested_at <= $until AND event_id IN (SELECT event_id FROM _gx_repeated)
