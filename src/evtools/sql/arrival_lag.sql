-- The arrival-lag curve (evtools.rules: arrival_lag) of the rows analysed (from _key_lag):
--   coverage(k): share of all events (sum over all rows) with lag <= k; row_coverage(k): the same for rows;
--   rows_reread_per_run(k): rows a daily run re-reads with lookback k: the mean rows per date times (k + 1) dates,
--   rounded half up (floor(x + 0.5): round() breaks ties to even on some engines' doubles, PostgreSQL's among them).
-- reads: _key_lag
WITH h AS (
    SELECT lag AS k, CAST(sum(rows) AS BIGINT) AS rows, CAST(sum(events) AS BIGINT) AS events
    FROM _key_lag
    GROUP BY lag
),
per_date AS (
    SELECT CAST(sum(rows) AS BIGINT) / count(DISTINCT date) AS mean_rows FROM _key_lag
)
SELECT k, rows, events,
       sum(events) OVER (ORDER BY k NULLS FIRST) / sum(events) OVER () AS coverage,
       sum(rows) OVER (ORDER BY k NULLS FIRST) / sum(rows) OVER () AS row_coverage,
       CAST(floor((SELECT mean_rows FROM per_date) * (greatest(k, 0) + 1) + 0.5) AS BIGINT) AS rows_reread_per_run
FROM h
ORDER BY k
