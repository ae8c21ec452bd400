-- What a reconcile scope finds: the company/date keys of the dashboard and the API within it ($company NULL: any;
-- $date_from, $date_to NULL: open), whether the company occurs at all, and what the two sources hold overall.
-- reads: dashboard, api_daily
WITH k AS (SELECT company_id, date FROM dashboard UNION SELECT company_id, date FROM api_daily)
SELECT count(*) FILTER (
           WHERE ($company IS NULL OR CAST(company_id AS VARCHAR) = $company)
             AND ($date_from IS NULL OR date >= $date_from) AND ($date_to IS NULL OR date <= $date_to)
       ) AS in_scope,
       count(*) FILTER (WHERE CAST(company_id AS VARCHAR) = $company) AS company_keys,
       count(DISTINCT company_id) AS companies,
       min(date) AS first_date,
       max(date) AS last_date
FROM k
