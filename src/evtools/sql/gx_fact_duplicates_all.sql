-- expectations batch "duplicates" of fact_events for every date of _gx_dates at once (gx_fact_duplicates.sql's
-- groups of all those dates): groups of rows of one date with the same company_id, event_id and events value seen
-- more than once, extra = n - 1. Such a group repeats its event_id, so only the rows of repeated event ids
-- (_gx_repeated) are grouped, and the rows without an event_id (grouped together, as the per-date batch groups them).
-- reads: fact_events, _gx_dates, _gx_repeated
-- makes: _gx_batch
CREATE OR REPLACE TEMP TABLE _gx_batch AS
SELECT company_id, date, event_id, events, count(*) AS n, count(*) - 1 AS extra
FROM fact_events
WHERE date IN (SELECT date FROM _gx_dates)
  AND (event_id IN (SELECT event_id FROM _gx_repeated) OR event_id IS NULL)
GROUP BY company_id, date, event_id, events
HAVING count(*) > 1
