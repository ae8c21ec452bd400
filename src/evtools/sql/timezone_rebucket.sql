-- latest_now re-bucketed by the local date of event_ts in each candidate zone, for the candidate companies:
-- all rows, minus repeated rows, plus each repeated event's latest version once.
CREATE OR REPLACE TEMP TABLE _tz AS
WITH z AS (
    SELECT unnest(CAST($zones AS VARCHAR[])) AS zone
),
parts AS (
    SELECT f.company_id, z.zone, f.event_ts, f.events AS ev
    FROM _facts f CROSS JOIN z
    WHERE f.company_id IN (SELECT company_id FROM _tz_companies)
    UNION ALL
    SELECT r.company_id, z.zone, r.event_ts,
           CASE WHEN r.is_latest_version
                     AND row_number() OVER (PARTITION BY r.event_id, z.zone, r.is_latest_version
                                            ORDER BY r.ingested_at) = 1
                THEN 0 ELSE -r.events END
    FROM _repeated_rows r CROSS JOIN z
    WHERE r.company_id IN (SELECT company_id FROM _tz_companies)
)
SELECT company_id, zone,
       CAST(timezone(zone, timezone('UTC', event_ts)) AS DATE) AS date,
       sum(ev)::BIGINT AS latest_now
FROM parts
WHERE event_ts IS NOT NULL
GROUP BY ALL
