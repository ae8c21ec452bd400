-- expectations batch "lateness" of fact_events for every date of _gx_dates at once: one row per date, the row
-- gx_fact_lateness.sql makes for it (a date without rows: 0 late of 0 rows, late_share 0).
-- reads: fact_events, _gx_dates
-- makes: _gx_batch
CREATE OR REPLACE TEMP TABLE _gx_batch AS
SELECT d.date, coalesce(f.late_rows, 0) AS late_rows, coalesce(f.rows, 0) AS rows,
       coalesce(f.late_share, 0) AS late_share
FROM _gx_dates AS d
LEFT JOIN (
    SELECT date,
           count(CASE WHEN arrival_lag(date, ingested_at) > $lookback THEN 1 END) AS late_rows,
           count(*) AS rows,
           coalesce(count(CASE WHEN arrival_lag(date, ingested_at) > $lookback THEN 1 END) / nullif(count(*), 0), 0)
               AS late_share
    FROM fact_events
    WHERE date IN (SELECT date FROM _gx_dates)
    GROUP BY date
) AS f ON f.date = d.date
