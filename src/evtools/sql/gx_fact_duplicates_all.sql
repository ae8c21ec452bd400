-- expectations batch "duplicates" of fact_events for every date of _gx_dates at once (gx_fact_duplicates.sql's
-- groups of all those dates): groups of rows of one date with the same company_id, event_id and events value seen
-- more than once, extra = n - 1. Such a group is a payload of a repeated event_id, or the rows without an event_id
-- (_gx_payloads holds both).
-- reads: _gx_payloads, _gx_dates
-- makes: _gx_batch
CREATE OR REPLACE TEMP TABLE _gx_batch AS
SELECT company_id, date, event_id, events, n, n - 1 AS extra
FROM _gx_payloads
WHERE date IN (SELECT date FROM _gx_dates) AND n > 1
