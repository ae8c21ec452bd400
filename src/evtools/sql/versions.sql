-- The latest-version rule (evtools.rules), the one place versions are ordered.
-- reads: _version_rows
-- makes: _versions
-- _version_rows: (as_of, event_id, company_id, date, events, ingested_at, version, key_t, event_ts), one row per
-- fact_events row (or per payload, with ingested_at = its first arrival: then n counts 1 per payload), in views: as_of NULL = over all
-- the rows given, as_of = T = over the rows ingested <= T. key_t: the computation time of the row's key.
-- _versions: one row per (as_of, event_id, payload): first_at = its first arrival, version = its greatest version
-- value, n = its rows, is_latest = it is the event's latest version in that view.
CREATE OR REPLACE TEMP TABLE _versions AS
SELECT *,
       row_number() OVER (
           PARTITION BY as_of, event_id
           ORDER BY version DESC NULLS LAST, first_at DESC, events DESC, date DESC, company_id DESC
       ) = 1 AS is_latest
FROM (
    SELECT as_of, event_id, company_id, date, events,
           min(ingested_at) AS first_at, max(version) AS version, count(*) AS n,
           max(key_t) AS key_t, min(event_ts) AS event_ts
    FROM _version_rows
    GROUP BY as_of, event_id, company_id, date, events
) AS p
