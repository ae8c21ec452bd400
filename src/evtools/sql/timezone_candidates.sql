-- Companies whose residuals look like a day-bucketing difference: a different day boundary moves events between
-- adjacent days, so the residuals of a company's days have both signs and largely cancel over its range, while
-- records never ingested (or an API that counts more) push every residual the same way. Candidates: at least two
-- keys with a residual, and |sum of residuals| <= $max_net_share * sum of |residuals|.
-- reads: _reconcile
-- makes: _tz_companies
CREATE OR REPLACE TEMP TABLE _tz_companies AS
SELECT company_id
FROM _reconcile
GROUP BY company_id
HAVING count(CASE WHEN residual <> 0 THEN 1 END) >= 2
   AND abs(sum(residual)) <= $max_net_share * sum(abs(residual))
