-- expectations batch "lateness" of fact_events: the share of one date's rows whose arrival lag exceeds $lookback days.
SELECT $date AS date,
       count(*) FILTER (WHERE date_diff('day', date, CAST(ingested_at AS DATE)) > $lookback) AS late_rows,
       count(*) AS rows,
       coalesce(count(*) FILTER (WHERE date_diff('day', date, CAST(ingested_at AS DATE)) > $lookback)
                / nullif(count(*), 0), 0) AS late_share
FROM fact_events
WHERE date = $date
