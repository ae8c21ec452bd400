-- expectations batch "freshness" of fact_events for every date of _gx_dates at once: gx_fact_freshness.sql's one
-- row (the same for every date: hours from the newest ingested_at to the run, $as_of) beside each date.
-- reads: fact_events, _gx_dates
-- makes: _gx_batch
CREATE OR REPLACE TEMP TABLE _gx_batch AS
SELECT d.date, f.newest_ingested_at, f.hours_since_newest
FROM _gx_dates AS d
CROSS JOIN (
    SELECT max(ingested_at) AS newest_ingested_at,
           CAST(date_diff('second', max(ingested_at), CAST($as_of AS TIMESTAMP)) AS DOUBLE) / 3600 AS hours_since_newest
    FROM fact_events
) AS f
