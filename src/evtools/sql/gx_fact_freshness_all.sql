-- expectations batch "freshness" of fact_events for every date of _gx_dates at once: gx_fact_freshness.sql's one
-- row (the same for every date: hours from the newest ingested_at not later than the run's clock $now to the run
-- $as_of, and future_rows = rows stamped later than $now) beside each date.
-- reads: fact_events, _gx_dates
-- makes: _gx_batch
CREATE OR REPLACE TEMP TABLE _gx_batch AS
SELECT d.date, f.newest_ingested_at, f.hours_since_newest, f.future_rows
FROM _gx_dates AS d
CROSS JOIN (
    SELECT max(ingested_at) FILTER (WHERE ingested_at <= CAST($now AS TIMESTAMP)) AS newest_ingested_at,
           CAST(date_diff('second', max(ingested_at) FILTER (WHERE ingested_at <= CAST($now AS TIMESTAMP)),
                          CAST($as_of AS TIMESTAMP)) AS DOUBLE) / 3600 AS hours_since_newest,
           count(*) FILTER (WHERE ingested_at > CAST($now AS TIMESTAMP)) AS future_rows
    FROM fact_events
) AS f
