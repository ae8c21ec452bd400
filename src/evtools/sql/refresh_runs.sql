-- The refresh runs, oldest first.
-- reads: agg.evtools_runs
SELECT * FROM agg.evtools_runs ORDER BY run_id
