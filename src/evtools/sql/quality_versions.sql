-- Per (company_id, date), over the rows of repeated event ids, with versions = groups of rows with the same
-- event_id and the same events value on the key:
--   duplicate_rows      = sum over versions of (n - 1)
--   duplicate_excess    = sum over versions of (n - 1) * events
--   superseded_versions = versions that are not the latest version of their event_id
--   correction_excess   = events of those versions = (SUM of all rows) - (SUM of latest) - duplicate_excess
--   latest_adjust       = events of versions that are not latest (subtract from the distinct sum to get the
--                         sum of latest versions)
CREATE OR REPLACE TEMP TABLE _quality_versions AS
WITH v AS (
    SELECT company_id, date, event_id, events, count(*) AS n, bool_or(is_latest_version) AS is_latest
    FROM _repeated_rows
    GROUP BY ALL
)
SELECT company_id, date,
       sum(n - 1)::BIGINT AS duplicate_rows,
       sum((n - 1) * events)::BIGINT AS duplicate_excess,
       count(*) FILTER (WHERE NOT is_latest) AS superseded_versions,
       coalesce(sum(events) FILTER (WHERE NOT is_latest), 0)::BIGINT AS correction_excess
FROM v
GROUP BY ALL
