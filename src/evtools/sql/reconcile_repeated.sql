-- Per key, the figures of the waterfall that involve repeated event ids, from their versions (_versions) now
-- (as_of NULL) and as of the key's own computation time T (as_of = key_t):
--   rep_raw_asof    = events of the key's repeated rows ingested <= T
--   dup_asof        = duplicate excess among them
--   rep_latest_asof = events of the latest versions as of T that lie on the key
--   rep_total       = events of all the key's repeated rows
--   rep_latest_now  = events of the latest versions now that lie on the key
-- An event_id with one row adds the same to raw and latest in every view, so these adjustments are all the
-- waterfall needs beyond plain sums.
-- reads: _versions
-- makes: _reconcile_repeated
CREATE OR REPLACE TEMP TABLE _reconcile_repeated AS
SELECT company_id, date,
       CAST(coalesce(sum(CASE WHEN as_of = key_t THEN n * events END), 0) AS BIGINT) AS rep_raw_asof,
       CAST(coalesce(sum(CASE WHEN as_of = key_t THEN (n - 1) * events END), 0) AS BIGINT) AS dup_asof,
       CAST(coalesce(sum(CASE WHEN as_of = key_t AND is_latest THEN events END), 0) AS BIGINT) AS rep_latest_asof,
       CAST(coalesce(sum(CASE WHEN as_of IS NULL THEN n * events END), 0) AS BIGINT) AS rep_total,
       CAST(coalesce(sum(CASE WHEN as_of IS NULL AND is_latest THEN events END), 0) AS BIGINT) AS rep_latest_now
FROM _versions
WHERE as_of IS NULL OR as_of = key_t
GROUP BY company_id, date
