-- The next run's id.
-- reads: agg.evtools_runs
SELECT coalesce(max(run_id), 0) + 1 FROM agg.evtools_runs
