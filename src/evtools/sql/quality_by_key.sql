-- The quality figures per (company_id, date), keys of fact_events only.
--   latest_events   = SUM of latest versions lying on the key = total - duplicate_excess - correction_excess
--   distinct_events = what SELECT DISTINCT company_id, date, event_id, events sums to = total - duplicate_excess:
--                     by definition it still over-counts the latest versions by correction_excess
-- reads: _quality_keys, _quality_versions
-- makes: _quality
CREATE OR REPLACE TEMP TABLE _quality AS
SELECT k.company_id, k.date, k.rows,
       coalesce(v.duplicate_rows, 0) AS duplicate_rows,
       coalesce(v.duplicate_excess, 0) AS duplicate_excess,
       coalesce(v.correction_excess, 0) AS correction_excess,
       coalesce(v.superseded_versions, 0) AS superseded_versions,
       k.late_rows, k.late_events, k.max_lag_days,
       k.total_events,
       k.total_events - coalesce(v.duplicate_excess, 0) AS distinct_events,
       k.total_events - coalesce(v.duplicate_excess, 0) - coalesce(v.correction_excess, 0) AS latest_events,
       k.computed_at
FROM _quality_keys AS k
LEFT JOIN _quality_versions AS v ON v.company_id = k.company_id AND v.date = k.date
