-- The waterfall per (company_id, date) over the keys of the dashboard and the API (a key missing on one side
-- counts 0 there). For a key with dashboard value D computed at T and API value A:
--   raw_asof    = SUM(events) of rows with ingested_at <= T
--   latest_asof = SUM of latest versions as of T; latest_now = SUM of latest versions over all rows
--   drift       = D - raw_asof
--   duplicates  = duplicate excess among rows ingested <= T
--   corrections = raw_asof - latest_asof - duplicates
--   late        = latest_asof - latest_now
--   residual    = latest_now - A
--   delta       = D - A = drift + duplicates + corrections + late + residual
-- A key whose T is unknown has nothing as of T (raw_asof = latest_asof = 0).
-- reads: dashboard, api_daily, _quality_keys, _reconcile_repeated
-- makes: _reconcile
CREATE OR REPLACE TEMP TABLE _reconcile AS
WITH d AS (
    SELECT company_id, date, CAST(sum(events) AS BIGINT) AS events
    FROM dashboard GROUP BY company_id, date
),
a AS (
    SELECT company_id, date, CAST(sum(events) AS BIGINT) AS events FROM api_daily GROUP BY company_id, date
),
k AS (
    SELECT q.company_id, q.date, q.total_events, coalesce(q.raw_asof, 0) AS raw_asof, q.computed_at,
           coalesce(q.raw_asof, 0) - coalesce(r.rep_raw_asof, 0) + coalesce(r.rep_latest_asof, 0) AS latest_asof,
           coalesce(r.dup_asof, 0) AS dup_asof,
           q.total_events - coalesce(r.rep_total, 0) + coalesce(r.rep_latest_now, 0) AS latest_now
    FROM _quality_keys AS q
    LEFT JOIN _reconcile_repeated AS r ON r.company_id = q.company_id AND r.date = q.date
),
w AS (
    SELECT coalesce(d.company_id, a.company_id) AS company_id,
           coalesce(d.date, a.date) AS date,
           coalesce(d.events, 0) AS dashboard_events,
           coalesce(a.events, 0) AS api_events,
           d.company_id IS NULL AS missing_in_dashboard,
           a.company_id IS NULL AS missing_in_api
    FROM d FULL JOIN a ON a.company_id = d.company_id AND a.date = d.date
)
SELECT w.company_id, w.date, w.dashboard_events, w.api_events,
       w.dashboard_events - w.api_events AS delta,
       w.dashboard_events - coalesce(k.raw_asof, 0) AS drift,
       coalesce(k.dup_asof, 0) AS duplicates,
       coalesce(k.raw_asof, 0) - coalesce(k.latest_asof, 0) - coalesce(k.dup_asof, 0) AS corrections,
       coalesce(k.latest_asof, 0) - coalesce(k.latest_now, 0) AS late,
       coalesce(k.latest_now, 0) - w.api_events AS residual,
       w.missing_in_dashboard, w.missing_in_api,
       coalesce(k.raw_asof, 0) AS raw_asof, coalesce(k.latest_asof, 0) AS latest_asof,
       coalesce(k.latest_now, 0) AS latest_now, coalesce(k.total_events, 0) AS fact_events,
       k.computed_at
FROM w
LEFT JOIN k ON k.company_id = w.company_id AND k.date = w.date
WHERE w.date BETWEEN coalesce($date_from, w.date) AND coalesce($date_to, w.date)
  AND ($company IS NULL OR CAST(w.company_id AS VARCHAR) = $company)
