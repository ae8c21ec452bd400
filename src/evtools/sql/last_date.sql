-- The latest date in fact_events.
-- reads: fact_events
SELECT max(date) FROM fact_events
