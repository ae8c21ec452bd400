-- latest_now re-bucketed by the local date of event_ts in each candidate zone (_zones: zone, pos = its rank in
-- the order of preference), for the candidate companies: the rows of event ids ingested once, plus each repeated
-- event's latest version now (_versions, as_of NULL), with its payload's event_ts.
-- reads: _facts, _tz_companies, _versions, _zones
-- makes: _tz
CREATE OR REPLACE TEMP TABLE _tz AS
WITH latest AS (
    SELECT f.company_id, f.event_ts, f.events FROM _facts AS f
    WHERE f.company_id IN (SELECT company_id FROM _tz_companies)
      AND NOT EXISTS (SELECT 1 FROM _versions AS v WHERE v.as_of IS NULL AND v.event_id = f.event_id)
    UNION ALL
    SELECT company_id, event_ts, events FROM _versions
    WHERE as_of IS NULL AND is_latest AND company_id IN (SELECT company_id FROM _tz_companies)
)
SELECT l.company_id, z.zone, z.pos,
       CAST(timezone(z.zone, timezone('UTC', l.event_ts)) AS DATE) AS date,
       CAST(sum(l.events) AS BIGINT) AS latest_now
FROM latest AS l CROSS JOIN _zones AS z
WHERE l.event_ts IS NOT NULL
GROUP BY l.company_id, z.zone, z.pos, CAST(timezone(z.zone, timezone('UTC', l.event_ts)) AS DATE)
