-- Replace the window's dates in the aggregate (inside the run's transaction).
-- reads: _window, agg.agg_company_daily_events
-- makes: agg.agg_company_daily_events
DELETE FROM agg.agg_company_daily_events WHERE date >= $since;

INSERT INTO agg.agg_company_daily_events
SELECT company_id, date, events, rows, CAST($now AS TIMESTAMP) FROM _window;
