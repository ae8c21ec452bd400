-- The newest ingested_at of fact_events in ($after, $until]: with $until = now, a refresh's default until. Looked
-- for among recent rows first ($after = a week before), so the engine reads only the files and row groups whose
-- statistics reach that far; then among all ($after = the year 1) when none is that recent.
-- reads: fact_events
SELECT max(ingested_at) FROM fact_events WHERE ingested_at > $after AND ingested_at <= $until
