-- expectations batch "rows" of fact_events: the rows of one date.
SELECT event_id, company_id, date, events, ingested_at FROM fact_events WHERE date = $date
