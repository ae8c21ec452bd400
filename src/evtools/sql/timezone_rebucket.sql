-- latest_now re-bucketed by the local date of event_ts in each candidate zone, for the candidate companies:
-- the rows of event ids ingested once, plus each repeated event's latest version now (_versions, as_of NULL),
-- with its payload's event_ts.
-- reads: _facts, _tz_companies, _versions
-- makes: _tz
CREATE OR REPLACE TEMP TABLE _tz AS
WITH z AS (
    SELECT unnest(CAST($zones AS VARCHAR[])) AS zone
),
latest AS (
    SELECT company_id, event_ts, events FROM _facts
    WHERE company_id IN (SELECT company_id FROM _tz_companies)
      AND event_id NOT IN (SELECT event_id FROM _versions WHERE as_of IS NULL)
    UNION ALL
    SELECT company_id, event_ts, events FROM _versions
    WHERE as_of IS NULL AND is_latest AND company_id IN (SELECT company_id FROM _tz_companies)
)
SELECT l.company_id, z.zone,
       CAST(timezone(z.zone, timezone('UTC', l.event_ts)) AS DATE) AS date,
       CAST(sum(l.events) AS BIGINT) AS latest_now
FROM latest AS l CROSS JOIN z
WHERE l.event_ts IS NOT NULL
GROUP BY l.company_id, z.zone, CAST(timezone(z.zone, timezone('UTC', l.event_ts)) AS DATE)
