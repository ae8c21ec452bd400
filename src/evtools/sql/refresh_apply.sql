-- Incremental step 3 (inside the run's transaction): set-based writes of the changed keys and of the touched
-- event ids' versions.
-- reads: _delta, _newvals, _new, _versions, agg.agg_company_daily_events, agg.evtools_versions
-- makes: agg.agg_company_daily_events, agg.evtools_versions
DELETE FROM agg.agg_company_daily_events AS a
WHERE EXISTS (SELECT 1 FROM _delta AS d WHERE d.company_id = a.company_id AND d.date = a.date);

INSERT INTO agg.agg_company_daily_events
SELECT company_id, date, events, rows, CAST($now AS TIMESTAMP) FROM _newvals WHERE rows > 0;

DELETE FROM agg.evtools_versions WHERE event_id IN (SELECT event_id FROM _new);

INSERT INTO agg.evtools_versions
SELECT event_id, company_id, date, events, first_at, version, is_latest FROM _versions
