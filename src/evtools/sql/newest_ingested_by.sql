-- The newest ingested_at of fact_events not later than $until (a refresh's default until, with $until = now).
-- reads: fact_events
SELECT max(ingested_at) FROM fact_events WHERE ingested_at <= $until
