-- One company on one date.
-- reads: fact_events
SELECT company_id, date, SUM(events) AS events
FROM fact_events
WHERE company_id = $company AND date = $day
GROUP BY company_id, date
