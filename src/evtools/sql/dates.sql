-- Every date of fact_events, in order.
SELECT DISTINCT date FROM fact_events ORDER BY date
