-- expectations batch "freshness" of fact_events: hours from the newest ingested_at to the run ($as_of).
-- reads: fact_events
SELECT max(ingested_at) AS newest_ingested_at,
       CAST(date_diff('second', max(ingested_at), CAST($as_of AS TIMESTAMP)) AS DOUBLE) / 3600 AS hours_since_newest
FROM fact_events
