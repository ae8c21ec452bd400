-- arrival_lag.sql over fact_events itself (for commands that do not prepare _facts).
WITH h AS (
    SELECT date_diff('day', date, CAST(ingested_at AS DATE)) AS k, count(*) AS rows, sum(events)::BIGINT AS events
    FROM fact_events
    GROUP BY ALL
)
SELECT k, rows, events,
       sum(events) OVER (ORDER BY k NULLS FIRST) / sum(events) OVER () AS coverage
FROM h
ORDER BY k
