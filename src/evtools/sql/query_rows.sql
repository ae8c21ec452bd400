-- How many rows of fact_events a query of the layout set needs (for the ideal bytes).
SELECT count(*) FILTER (WHERE date >= $window_since) AS in_window,
       count(*) FILTER (WHERE company_id = $company AND date = $day) AS company_day,
       count(*) FILTER (WHERE company_id = $company AND date >= $month_since) AS company_month,
       count(*) AS all_rows
FROM fact_events
