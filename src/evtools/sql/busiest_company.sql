-- The company with the most rows (ties: the smallest id), used for the single-company queries.
-- reads: fact_events
SELECT company_id FROM fact_events GROUP BY company_id ORDER BY count(*) DESC, company_id LIMIT 1
