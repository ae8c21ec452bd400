-- The daily job as an incremental query: only the dates from $since on.
-- reads: fact_events
SELECT company_id, date, SUM(events) AS events
FROM fact_events
WHERE date >= $since
GROUP BY company_id, date
