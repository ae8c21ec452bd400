-- Totals over the reconciled keys (_reconcile_final), one row. abs_<component>: sum over keys of |component|.
-- reads: _reconcile_final
SELECT count(*) AS keys,
       count(CASE WHEN status <> 'match' THEN 1 END) AS mismatched,
       count(CASE WHEN status = 'match' THEN 1 END) AS matched,
       count(CASE WHEN status = 'missing_in_dashboard' THEN 1 END) AS missing_in_dashboard,
       count(CASE WHEN status = 'missing_in_api' THEN 1 END) AS missing_in_api,
       min(date) AS first_date, max(date) AS last_date,
       coalesce(sum(dashboard_events), 0) AS dashboard_events, coalesce(sum(api_events), 0) AS api_events,
       coalesce(sum(delta), 0) AS delta, coalesce(sum(abs(delta)), 0) AS abs_delta,
       coalesce(sum(drift), 0) AS drift, coalesce(sum(duplicates), 0) AS duplicates,
       coalesce(sum(corrections), 0) AS corrections, coalesce(sum(late), 0) AS late,
       coalesce(sum(residual), 0) AS residual,
       coalesce(sum(abs(drift)), 0) AS abs_drift, coalesce(sum(abs(duplicates)), 0) AS abs_duplicates,
       coalesce(sum(abs(corrections)), 0) AS abs_corrections, coalesce(sum(abs(late)), 0) AS abs_late,
       coalesce(sum(abs(residual)), 0) AS abs_residual
FROM _reconcile_final
