-- expectations batch "duplicates" of fact_events: groups of rows of one date with the same company_id, event_id and
-- events value seen more than once; extra = n - 1 (the duplicate rows).
-- reads: fact_events
SELECT company_id, date, event_id, events, count(*) AS n, count(*) - 1 AS extra
FROM fact_events
WHERE date = $date
GROUP BY company_id, date, event_id, events
HAVING count(*) > 1
ORDER BY extra DESC, company_id, event_id
