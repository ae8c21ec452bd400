-- Arrival lag of a row: whole days from its date to the UTC date of its ingested_at.
-- coverage(k): share of all events (sum over all rows) with lag <= k.
-- rows_reread_per_run(k): rows a daily job re-reads with lookback k: the mean rows per date times (k + 1) dates.
WITH h AS (
    SELECT date_diff('day', date, CAST(ingested_at AS DATE)) AS k, count(*) AS rows, sum(events)::BIGINT AS events
    FROM _facts
    GROUP BY ALL
),
per_date AS (
    SELECT count(*) / count(DISTINCT date) AS mean_rows FROM _facts
)
SELECT k, rows, events,
       sum(events) OVER (ORDER BY k NULLS FIRST) / sum(events) OVER () AS coverage,
       sum(rows) OVER (ORDER BY k NULLS FIRST) / sum(rows) OVER () AS row_coverage,
       round((SELECT mean_rows FROM per_date) * (greatest(k, 0) + 1))::BIGINT AS rows_reread_per_run
FROM h
ORDER BY k
