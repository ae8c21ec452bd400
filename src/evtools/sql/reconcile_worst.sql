-- The keys with the largest |delta|.
-- reads: _reconcile_final
SELECT company_id, date, dashboard_events, api_events, delta, drift, duplicates, corrections, late, residual, cause
FROM _reconcile_final
WHERE status <> 'match'
ORDER BY abs(delta) DESC, company_id, date
LIMIT $n
