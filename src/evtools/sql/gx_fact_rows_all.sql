-- expectations batch "rows" of fact_events for every date of _gx_dates at once: restricted to one date, it is
-- gx_fact_rows.sql's frame of that date.
-- reads: fact_events, _gx_dates
-- makes: _gx_batch
CREATE OR REPLACE TEMP VIEW _gx_batch AS
SELECT event_id, company_id, date, events, ingested_at
FROM fact_events
WHERE date IN (SELECT date FROM _gx_dates)
