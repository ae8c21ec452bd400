-- Per (company_id, date), over the versions of repeated event ids now (_versions, as_of NULL):
--   duplicate_rows      = sum over versions of (n - 1)
--   duplicate_excess    = sum over versions of (n - 1) * events
--   superseded_versions = versions that are not the latest version of their event_id
--   correction_excess   = events of those versions = (SUM of all rows) - (SUM of latest) - duplicate_excess
-- reads: _versions
-- makes: _quality_versions
CREATE OR REPLACE TEMP TABLE _quality_versions AS
SELECT company_id, date,
       CAST(sum(n - 1) AS BIGINT) AS duplicate_rows,
       CAST(sum((n - 1) * events) AS BIGINT) AS duplicate_excess,
       count(CASE WHEN NOT is_latest THEN 1 END) AS superseded_versions,
       CAST(coalesce(sum(CASE WHEN NOT is_latest THEN events END), 0) AS BIGINT) AS correction_excess
FROM _versions
WHERE as_of IS NULL
GROUP BY company_id, date
