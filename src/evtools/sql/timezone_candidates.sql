-- Companies whose residuals look like a day-bucketing difference: most of their reconciled keys carry a residual
-- (events never ingested touch a few days; a different day boundary touches nearly every day), and fact_events
-- has event_ts for them.
CREATE OR REPLACE TEMP TABLE _tz_companies AS
SELECT company_id
FROM _reconcile
GROUP BY company_id
HAVING count(*) FILTER (WHERE residual <> 0) >= 2
   AND count(*) FILTER (WHERE residual <> 0) >= $min_share * count(*)
