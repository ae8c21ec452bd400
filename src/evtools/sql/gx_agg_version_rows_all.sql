-- expectations batch "totals" of the aggregate for every date at once, step 1 (input of versions.sql): the payloads
-- of the repeated event ids as of $until (_gx_payloads), one row each: first_by as its ingested_at, version_by as its
-- version, n_by its rows (which gx_agg_totals_all.sql takes out before putting the latest versions back). An id with
-- a single row ingested by $until is its own latest version: its row stays, no total changes.
-- reads: _gx_payloads
-- makes: _version_rows
CREATE OR REPLACE TEMP TABLE _version_rows AS
SELECT CAST(NULL AS TIMESTAMP) AS as_of, event_id, company_id, date, events, first_by AS ingested_at,
       version_by AS version, CAST(NULL AS TIMESTAMP) AS key_t, CAST(NULL AS TIMESTAMP) AS event_ts, n_by
FROM _gx_payloads
WHERE event_id IS NOT NULL AND n_by > 0
