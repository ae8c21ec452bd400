-- The rows behind one key's waterfall: every row of every event_id with a row on ($company, $date), with its role.
-- T = when the dashboard computed the key (from _reconcile). Roles:
--   duplicate    a row on the key, ingested <= T, repeating an earlier row's event_id and events (duplicates)
--   superseded   a row on the key, ingested <= T, of a version that is not the event's latest as of T (corrections)
--   counted      a row on the key, ingested <= T, of the latest version as of T
--   after_t      a row ingested after T that changes the event's latest version (a new event, or a new version):
--                the late component; lag_past_t = ingested_at - T
--   copy_after_t a row ingested after T repeating the version the event already had by T (changes nothing)
--   other_key    a row of the same event on another key, ingested <= T
WITH k AS (
    SELECT max(computed_at) AS t FROM _reconcile
    WHERE CAST(company_id AS VARCHAR) = $company AND date = CAST($date AS DATE)
),
ev AS (
    SELECT DISTINCT event_id FROM _facts
    WHERE CAST(company_id AS VARCHAR) = $company AND date = CAST($date AS DATE)
),
r AS (
    SELECT f.event_id, f.company_id, f.date, f.events, f.ingested_at, f.load_id, (SELECT t FROM k) AS t,
           CAST(f.company_id AS VARCHAR) = $company AND f.date = CAST($date AS DATE) AS on_key
    FROM _facts f
    WHERE f.event_id IN (SELECT event_id FROM ev)
),
ranked AS (
    SELECT *,
           ingested_at <= t AS by_t,
           row_number() OVER (PARTITION BY event_id, company_id, date, events, ingested_at <= t
                              ORDER BY ingested_at) AS copy_rank,
           max((ingested_at, events, date, company_id)) FILTER (WHERE ingested_at <= t)
               OVER (PARTITION BY event_id) AS latest_asof,
           max((ingested_at, events, date, company_id)) OVER (PARTITION BY event_id) AS latest_now
    FROM r
)
SELECT event_id, company_id, date, events, ingested_at, load_id,
       CASE WHEN by_t IS NOT TRUE AND latest_asof IS NOT NULL
                 AND (company_id, date, events) = (latest_asof[4], latest_asof[3], latest_asof[2]) THEN 'copy_after_t'
            WHEN by_t IS NOT TRUE THEN 'after_t'
            WHEN NOT on_key THEN 'other_key'
            WHEN copy_rank > 1 THEN 'duplicate'
            WHEN (company_id, date, events) <> (latest_asof[4], latest_asof[3], latest_asof[2]) THEN 'superseded'
            ELSE 'counted' END AS role,
       CASE WHEN by_t IS NOT TRUE AND t IS NOT NULL THEN ingested_at - t END AS lag_past_t,
       (ingested_at, events, date, company_id) = latest_now AS is_latest_now
FROM ranked
ORDER BY event_id, ingested_at
