-- Per (company_id, date) over all of fact_events (sums over _key_lag): rows, events, raw_asof (events of rows
-- ingested by t, the key's computation time), the largest arrival lag, and the late rows (ingested after t) with
-- their events. The late figures and raw_asof are NULL where t is unknown (t is one value per key).
-- reads: _key_lag
-- makes: _quality_keys
CREATE OR REPLACE TEMP TABLE _quality_keys AS
SELECT company_id, date,
       CAST(sum(rows) AS BIGINT) AS rows,
       CAST(sum(events) AS BIGINT) AS total_events,
       CASE WHEN max(t) IS NOT NULL
            THEN CAST(coalesce(sum(CASE WHEN NOT late THEN events END), 0) AS BIGINT) END AS raw_asof,
       CASE WHEN max(t) IS NOT NULL THEN CAST(coalesce(sum(CASE WHEN late THEN rows END), 0) AS BIGINT) END
           AS late_rows,
       CASE WHEN max(t) IS NOT NULL
            THEN CAST(coalesce(sum(CASE WHEN late THEN events END), 0) AS BIGINT) END AS late_events,
       max(lag) AS max_lag_days,
       max(t) AS computed_at
FROM _key_lag
GROUP BY company_id, date
