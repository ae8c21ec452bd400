-- One company over the dates from $since on.
-- reads: fact_events
SELECT company_id, date, SUM(events) AS events
FROM fact_events
WHERE company_id = $company AND date >= $since
GROUP BY company_id, date
