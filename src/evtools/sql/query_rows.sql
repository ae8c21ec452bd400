-- How many rows of fact_events a query of the layout set needs (for the ideal bytes).
-- reads: fact_events
SELECT count(CASE WHEN date >= $window_since THEN 1 END) AS in_window,
       count(CASE WHEN company_id = $company AND date = $day THEN 1 END) AS company_day,
       count(CASE WHEN company_id = $company AND date >= $month_since THEN 1 END) AS company_month,
       count(*) AS all_rows
FROM fact_events
