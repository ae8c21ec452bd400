-- Every date of fact_events, in order.
-- reads: fact_events
SELECT DISTINCT date FROM fact_events ORDER BY date
