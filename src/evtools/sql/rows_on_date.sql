-- The rows of fact_events on one date ($day).
-- reads: fact_events
SELECT count(*) FROM fact_events WHERE date = $day
