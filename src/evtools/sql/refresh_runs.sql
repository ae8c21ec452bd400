-- The refresh runs, oldest first.
SELECT * FROM evtools_runs ORDER BY run_id
