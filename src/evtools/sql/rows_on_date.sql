-- The rows of fact_events on one date ($day).
SELECT count(*) FROM fact_events WHERE date = $day
