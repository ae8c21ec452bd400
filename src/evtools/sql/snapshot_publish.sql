-- The aggregate's read-only snapshot (attached as snap): its table, state and run log, copied from agg.
-- reads: agg.agg_company_daily_events, agg.evtools_state, agg.evtools_runs
-- makes: snap.agg_company_daily_events, snap.evtools_state, snap.evtools_runs
CREATE TABLE snap.agg_company_daily_events AS SELECT * FROM agg.agg_company_daily_events;
CREATE TABLE snap.evtools_state AS SELECT * FROM agg.evtools_state;
CREATE TABLE snap.evtools_runs AS SELECT * FROM agg.evtools_runs;
