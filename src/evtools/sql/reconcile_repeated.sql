-- Per key, the as-of-T figures that involve repeated event ids (_repeated_rows), each key with its own T = t:
--   rep_raw_asof    = events of repeated rows on the key ingested <= T
--   rep_latest_asof = events of the latest versions as of T that lie on the key (latest chosen per event_id over
--                     all its rows ingested <= T, on any key)
--   dup_asof        = duplicate excess among rows on the key ingested <= T
--   rep_total       = events of all repeated rows on the key
--   rep_latest_now  = events of the latest versions (over all rows) that lie on the key
-- An event_id with one row adds the same to raw and latest, so these adjustments are all the waterfall needs
-- beyond plain sums.
CREATE OR REPLACE TEMP TABLE _reconcile_repeated AS
WITH pairs AS (
    SELECT DISTINCT event_id, company_id, date, t FROM _repeated_rows
),
as_of AS (
    SELECT p.event_id, p.company_id, p.date,
           max((r.ingested_at, r.events, r.date, r.company_id)) AS l
    FROM pairs p
    JOIN _repeated_rows r ON r.event_id = p.event_id AND r.ingested_at <= p.t
    GROUP BY p.event_id, p.company_id, p.date
),
latest_asof AS (
    SELECT company_id, date, sum(l[2])::BIGINT AS rep_latest_asof
    FROM as_of
    WHERE l[4] = company_id AND l[3] = date
    GROUP BY company_id, date
),
versions_asof AS (
    SELECT company_id, date, event_id, events, count(*) AS n
    FROM _repeated_rows
    WHERE ingested_at <= t
    GROUP BY ALL
),
dup AS (
    SELECT company_id, date, sum((n - 1) * events)::BIGINT AS dup_asof, sum(n * events)::BIGINT AS rep_raw_asof
    FROM versions_asof
    GROUP BY company_id, date
),
now AS (
    SELECT company_id, date, sum(events)::BIGINT AS rep_total,
           sum(events) FILTER (WHERE is_latest_version AND NOT dup_of_latest)::BIGINT AS rep_latest_now
    FROM (
        SELECT *, row_number() OVER (PARTITION BY event_id, is_latest_version ORDER BY ingested_at) > 1
                  AS dup_of_latest
        FROM _repeated_rows
    )
    GROUP BY company_id, date
)
SELECT n.company_id, n.date,
       coalesce(d.rep_raw_asof, 0) AS rep_raw_asof,
       coalesce(l.rep_latest_asof, 0) AS rep_latest_asof,
       coalesce(d.dup_asof, 0) AS dup_asof,
       n.rep_total,
       coalesce(n.rep_latest_now, 0) AS rep_latest_now
FROM now n
LEFT JOIN dup d USING (company_id, date)
LEFT JOIN latest_asof l USING (company_id, date)
