-- The daily job's query, corrected: events per company and date over the latest version of each event_id
-- (the row with the greatest ingested_at; ties: the larger events), so duplicates and superseded versions count once.
SELECT company_id, date, SUM(events) AS events
FROM (
    SELECT company_id, date, events,
           row_number() OVER (PARTITION BY event_id ORDER BY ingested_at DESC, events DESC) AS version
    FROM fact_events
) AS versions
WHERE version = 1
GROUP BY company_id, date
