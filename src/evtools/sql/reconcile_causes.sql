-- Keys and |delta| per cause (and zone, for timezone).
-- reads: _reconcile_final
SELECT cause, tz_zone, count(*) AS keys, sum(abs(delta)) AS abs_delta
FROM _reconcile_final
GROUP BY cause, tz_zone
ORDER BY keys DESC, cause
