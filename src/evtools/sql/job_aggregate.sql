-- The daily job's query: events per company and date over all history.
-- reads: fact_events
SELECT company_id, date, SUM(events) AS events
FROM fact_events
GROUP BY company_id, date
