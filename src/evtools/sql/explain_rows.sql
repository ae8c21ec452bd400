-- The rows behind one key's waterfall: every row of every event_id with a row on ($company, $date), with its role.
-- T = when the dashboard computed the key (from _reconcile); versions as of T and now come from _versions (events
-- with one row are their own latest version). Roles:
--   duplicate    a row on the key, ingested <= T, repeating a payload that arrived earlier (duplicates)
--   superseded   the first row on the key, ingested <= T, of a version that is not the event's latest as of T
--                (corrections)
--   counted      the first row on the key, ingested <= T, of the event's latest version as of T
--   after_t      a row ingested after T that can change the event's latest version: the first arrival of a payload
--                not there by T, or a row raising its payload's version (late); lag_past_t = ingested_at - T
--   copy_after_t any other row ingested after T: a copy of a payload that had already arrived (changes nothing)
--   other_key    a row of the same events on another key, ingested <= T
-- reads: _facts, _reconcile, _versions
WITH k AS (
    SELECT max(computed_at) AS t FROM _reconcile
    WHERE CAST(company_id AS VARCHAR) = $company AND date = CAST($date AS DATE)
),
ev AS (
    SELECT DISTINCT event_id FROM _facts
    WHERE CAST(company_id AS VARCHAR) = $company AND date = CAST($date AS DATE)
),
r AS (
    SELECT f.event_id, f.company_id, f.date, f.events, f.ingested_at, f.version, f.load_id,
           (SELECT t FROM k) AS t,
           CAST(f.company_id AS VARCHAR) = $company AND f.date = CAST($date AS DATE) AS on_key
    FROM _facts AS f
    WHERE f.event_id IN (SELECT event_id FROM ev)
),
ranked AS (
    SELECT r.*,
           coalesce(r.ingested_at <= r.t, false) AS by_t,
           row_number() OVER (
               PARTITION BY r.event_id, r.company_id, r.date, r.events, coalesce(r.ingested_at <= r.t, false)
               ORDER BY r.ingested_at, r.load_id
           ) AS copy_rank,
           count(*) OVER (PARTITION BY r.event_id) AS event_rows
    FROM r
),
v_t AS (
    SELECT event_id, company_id, date, events, first_at, version, is_latest
    FROM _versions WHERE as_of = (SELECT t FROM k)
),
v_now AS (
    SELECT event_id, company_id, date, events, is_latest FROM _versions WHERE as_of IS NULL
)
SELECT x.event_id, x.company_id, x.date, x.events, x.ingested_at, x.version, x.load_id,
       CASE WHEN NOT x.by_t THEN
                CASE WHEN x.event_rows > 1 AND a.first_at IS NOT NULL
                          AND (x.version IS NULL OR x.version <= a.version) THEN 'copy_after_t'
                     WHEN x.copy_rank = 1 OR x.version > a.version THEN 'after_t'
                     ELSE 'copy_after_t' END
            WHEN NOT x.on_key THEN 'other_key'
            WHEN x.copy_rank > 1 THEN 'duplicate'
            WHEN x.event_rows > 1 AND NOT a.is_latest THEN 'superseded'
            ELSE 'counted' END AS role,
       CASE WHEN NOT x.by_t AND x.t IS NOT NULL THEN x.ingested_at - x.t END AS lag_past_t,
       coalesce(n.is_latest, true) AS is_latest_now
FROM ranked AS x
LEFT JOIN v_t AS a
       ON a.event_id = x.event_id AND a.company_id = x.company_id AND a.date = x.date AND a.events = x.events
LEFT JOIN v_now AS n
       ON n.event_id = x.event_id AND n.company_id = x.company_id AND n.date = x.date AND n.events = x.events
ORDER BY x.event_id, x.ingested_at
