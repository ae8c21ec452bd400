-- The rows of fact_events.
-- reads: fact_events
SELECT count(*) AS rows FROM fact_events
