-- The next run's id.
SELECT coalesce(max(run_id), 0) + 1 FROM agg.evtools_runs
