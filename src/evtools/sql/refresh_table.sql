-- The aggregate, ordered by key.
-- reads: agg.agg_company_daily_events
SELECT company_id, date, events, rows, refreshed_at FROM agg.agg_company_daily_events ORDER BY company_id, date
