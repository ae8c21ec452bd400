-- expectations batch "lateness" of fact_events: the share of one date's rows whose arrival lag (evtools.rules)
-- exceeds $lookback days: the rows a daily run with that lookback misses.
-- reads: fact_events
SELECT CAST($date AS DATE) AS date,
       count(CASE WHEN arrival_lag(date, ingested_at) > $lookback THEN 1 END) AS late_rows,
       count(*) AS rows,
       coalesce(count(CASE WHEN arrival_lag(date, ingested_at) > $lookback THEN 1 END) / nullif(count(*), 0), 0)
           AS late_share
FROM fact_events
WHERE date = $date
