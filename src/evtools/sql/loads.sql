-- Per load_id over every row of _facts: its rows, events and first and last ingestion (one NULL group where
-- fact_events has no load_id). replayed_loads.sql reads it.
-- reads: _facts
-- makes: _loads
CREATE OR REPLACE TEMP TABLE _loads AS
SELECT load_id, count(*) AS rows, CAST(sum(events) AS BIGINT) AS events,
       min(ingested_at) AS first_ingested_at, max(ingested_at) AS last_ingested_at
FROM _facts
GROUP BY load_id
