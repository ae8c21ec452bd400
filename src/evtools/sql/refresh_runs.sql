-- The refresh runs, oldest first.
-- reads: evtools_runs
SELECT * FROM evtools_runs ORDER BY run_id
