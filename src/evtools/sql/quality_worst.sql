-- The keys whose duplicates and corrections add the most events.
-- reads: _quality
SELECT company_id, date, rows, duplicate_excess, correction_excess, late_events,
       duplicate_excess + correction_excess AS excess
FROM _quality
WHERE duplicate_excess + correction_excess > 0
ORDER BY excess DESC, company_id, date
LIMIT $n
