-- Every run, by job and run number: what the analysis reads (the log's columns are not carried further).
-- reads: runs
SELECT job, run_no, run_id, started_at, finished_at, seconds, rows, bytes, calls, status, status_raw
FROM runs
ORDER BY job, run_no
