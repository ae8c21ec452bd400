-- Per (company_id, date) over all of fact_events (_fact_t): rows, events, raw_asof (events of rows ingested by t,
-- the key's computation time), the largest arrival lag, and the late rows (ingested after t) with their events.
-- The late figures and raw_asof are NULL where t is unknown (t is one value per key, so max(t) is that value).
-- reads: _fact_t
-- makes: _quality_keys
CREATE OR REPLACE TEMP TABLE _quality_keys AS
SELECT company_id, date,
       count(*) AS rows,
       CAST(sum(events) AS BIGINT) AS total_events,
       CASE WHEN max(t) IS NOT NULL
            THEN CAST(coalesce(sum(CASE WHEN ingested_at <= t THEN events END), 0) AS BIGINT) END AS raw_asof,
       CASE WHEN max(t) IS NOT NULL THEN count(CASE WHEN ingested_at > t THEN 1 END) END AS late_rows,
       CASE WHEN max(t) IS NOT NULL
            THEN CAST(coalesce(sum(CASE WHEN ingested_at > t THEN events END), 0) AS BIGINT) END AS late_events,
       max(arrival_lag(date, ingested_at)) AS max_lag_days,
       max(t) AS computed_at
FROM _fact_t
GROUP BY company_id, date
