-- Per (company_id, date) over all of fact_events: rows, events, raw_asof (events of rows ingested by t, the time
-- the dashboard computed the key, see _fact_t), max arrival lag, and the late rows, ingested after t. Late figures
-- are NULL where t is unknown (t is one value per key, so max(t) is that value). arrival lag of a row = whole days
-- from its date to the UTC date of its ingested_at.
CREATE OR REPLACE TEMP TABLE _quality_keys AS
SELECT company_id, date,
       count(*) AS rows,
       sum(events)::BIGINT AS total_events,
       coalesce(sum(events) FILTER (WHERE ingested_at <= t), 0)::BIGINT AS raw_asof,
       CASE WHEN max(t) IS NOT NULL THEN count(*) FILTER (WHERE ingested_at > t) END AS late_rows,
       CASE WHEN max(t) IS NOT NULL
            THEN coalesce(sum(events) FILTER (WHERE ingested_at > t), 0)::BIGINT END AS late_events,
       date_diff('day', date, CAST(max(ingested_at) AS DATE)) AS max_lag_days,
       max(t) AS computed_at
FROM _fact_t
GROUP BY company_id, date
