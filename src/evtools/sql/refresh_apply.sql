-- Incremental step 3 (inside the run's transaction): set-based writes of the changed keys and the new latest
-- versions.
DELETE FROM agg.agg_company_daily_events a
USING _delta d WHERE a.company_id = d.company_id AND a.date = d.date;

INSERT INTO agg.agg_company_daily_events
SELECT company_id, date, events, rows, CAST($now AS TIMESTAMP) FROM _newvals WHERE rows > 0;

DELETE FROM agg.evtools_latest l USING _cand c WHERE l.event_id = c.event_id;

INSERT INTO agg.evtools_latest SELECT event_id, company_id, date, events, ingested_at FROM _cand;
