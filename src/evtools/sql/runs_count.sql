-- How many rows the log has (runs_raw) and how many of them became runs (those with a start or an end time).
-- reads: runs_raw, runs
SELECT (SELECT count(*) FROM runs_raw), (SELECT count(*) FROM runs)
