-- The daily report's default date: the latest complete date, i.e. the greatest date with rows in fact_events whose
-- day (UTC) had ended by the newest ingestion: date + 1 day <= max(ingested_at). NULL when no date is complete yet.
-- reads: fact_events
SELECT max(date) FROM fact_events WHERE date < (SELECT CAST(max(ingested_at) AS DATE) FROM fact_events)
