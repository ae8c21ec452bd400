-- The reconciliation with its verdicts. tolerance of a key: abs_tolerance + rel_tolerance * |api_events|.
--   status: missing_in_dashboard / missing_in_api when the key is absent there, else match when
--           |delta| <= tolerance, else mismatch.
--   cause:  match when |delta| <= tolerance, else the component with the largest absolute value (ties in the order
--           drift, duplicates, corrections, late, residual); a residual that vanishes (within tolerance) when the
--           company's events are bucketed by the local day of a candidate zone is named timezone, with tz_zone.
-- reads: _reconcile, _tz
-- makes: _reconcile_final
CREATE OR REPLACE TEMP TABLE _reconcile_final AS
WITH fits AS (  -- the zones whose day-bucketing explains the key's residual; the first in preference (pos) wins
    SELECT r.company_id, r.date, t.zone,
           row_number() OVER (PARTITION BY r.company_id, r.date ORDER BY t.pos) AS pick
    FROM _reconcile AS r
    JOIN _tz AS t ON t.company_id = r.company_id AND t.date = r.date
    WHERE r.residual <> 0 AND abs(t.latest_now - r.api_events) <= $abs_tol + $rel_tol * abs(r.api_events)
),
tz AS (
    SELECT company_id, date, zone AS tz_zone FROM fits WHERE pick = 1
),
c AS (
    SELECT r.*, tz.tz_zone,
           abs(r.delta) <= $abs_tol + $rel_tol * abs(r.api_events) AS within,
           greatest(abs(drift), abs(duplicates), abs(corrections), abs(late), abs(residual)) AS top
    FROM _reconcile AS r
    LEFT JOIN tz ON tz.company_id = r.company_id AND tz.date = r.date
)
SELECT company_id, date, dashboard_events, api_events, delta, drift, duplicates, corrections, late, residual,
       CASE WHEN within THEN 'match'
            WHEN abs(drift) = top THEN 'drift'
            WHEN abs(duplicates) = top THEN 'duplicates'
            WHEN abs(corrections) = top THEN 'corrections'
            WHEN abs(late) = top THEN 'late'
            WHEN tz_zone IS NOT NULL THEN 'timezone'
            ELSE 'residual' END AS cause,
       CASE WHEN missing_in_dashboard THEN 'missing_in_dashboard'
            WHEN missing_in_api THEN 'missing_in_api'
            WHEN within THEN 'match'
            ELSE 'mismatch' END AS status,
       tz_zone, raw_asof, latest_asof, latest_now, fact_events, computed_at
FROM c;

SELECT * FROM _reconcile_final ORDER BY company_id, date
