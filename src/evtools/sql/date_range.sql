-- The first and last date of fact_events.
-- reads: fact_events
SELECT min(date) AS first_date, max(date) AS last_date FROM fact_events
