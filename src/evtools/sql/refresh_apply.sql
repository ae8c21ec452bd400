-- Incremental step 3 (inside the run's transaction): set-based writes of the changed keys and the new latest
-- versions.
DELETE FROM agg.agg_company_daily_events a
WHERE EXISTS (SELECT 1 FROM _delta d WHERE d.company_id = a.company_id AND d.date = a.date);

INSERT INTO agg.agg_company_daily_events
SELECT company_id, date, events, rows, CAST($now AS TIMESTAMP) FROM _newvals WHERE rows > 0;

DELETE FROM agg.evtools_latest WHERE event_id IN (SELECT event_id FROM _cand);

INSERT INTO agg.evtools_latest SELECT event_id, company_id, date, events, ingested_at FROM _cand;
