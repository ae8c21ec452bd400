-- Totals of the per-key quality figures (_quality), one row. The late totals are NULL when no key has a
-- computation time (keys_without_t counts the keys whose t is unknown).
-- reads: _quality
SELECT count(*) AS keys,
       count(DISTINCT company_id) AS companies,
       min(date) AS first_date,
       max(date) AS last_date,
       CAST(sum(total_events) AS BIGINT) AS total_events,
       CAST(sum(latest_events) AS BIGINT) AS latest_events,
       CAST(sum(distinct_events) AS BIGINT) AS distinct_events,
       CAST(sum(rows) AS BIGINT) AS rows,
       CAST(sum(duplicate_rows) AS BIGINT) AS duplicate_rows,
       CAST(sum(duplicate_excess) AS BIGINT) AS duplicate_excess,
       CAST(sum(correction_excess) AS BIGINT) AS correction_excess,
       CAST(sum(superseded_versions) AS BIGINT) AS superseded_versions,
       CAST(sum(late_rows) AS BIGINT) AS late_rows,
       CAST(sum(late_events) AS BIGINT) AS late_events,
       count(CASE WHEN duplicate_rows > 0 THEN 1 END) AS keys_with_duplicates,
       count(CASE WHEN superseded_versions > 0 THEN 1 END) AS keys_with_corrections,
       count(CASE WHEN late_rows > 0 THEN 1 END) AS keys_with_late_rows,
       count(CASE WHEN computed_at IS NULL THEN 1 END) AS keys_without_t
FROM _quality
