-- expectations batch "rows" of fact_events: the rows of one date.
-- reads: fact_events
SELECT event_id, company_id, date, events, ingested_at FROM fact_events WHERE date = $date
