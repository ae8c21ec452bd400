-- Incremental step 6 (inside the run's transaction): set-based writes of the changed keys.
-- reads: _delta, _newvals, agg.agg_company_daily_events
-- makes: agg.agg_company_daily_events
DELETE FROM agg.agg_company_daily_events AS a
WHERE EXISTS (SELECT 1 FROM _delta AS d WHERE d.company_id = a.company_id AND d.date = a.date);

INSERT INTO agg.agg_company_daily_events
SELECT company_id, date, events, rows, CAST($now AS TIMESTAMP) FROM _newvals WHERE rows > 0
