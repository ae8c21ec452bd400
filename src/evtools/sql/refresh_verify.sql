-- The aggregate (live) against a full recomputation as of its watermark, built by the full build's own steps into
-- a scratch database (agg): every key where events or rows differ.
-- reads: live.agg_company_daily_events, agg.agg_company_daily_events
SELECT coalesce(a.company_id, f.company_id) AS company_id, coalesce(a.date, f.date) AS date,
       a.events AS table_events, f.events AS full_events, a.rows AS table_rows, f.rows AS full_rows
FROM live.agg_company_daily_events AS a
FULL JOIN agg.agg_company_daily_events AS f ON a.company_id = f.company_id AND a.date = f.date
WHERE a.events IS DISTINCT FROM f.events OR a.rows IS DISTINCT FROM f.rows
ORDER BY company_id NULLS FIRST, date NULLS FIRST
