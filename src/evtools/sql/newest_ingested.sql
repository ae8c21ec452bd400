-- The newest ingested_at of fact_events.
-- reads: fact_events
SELECT max(ingested_at) FROM fact_events
