-- One corrected event id (a superseded version exists), preferring one whose versions were also duplicated:
-- its rows, which of them SELECT DISTINCT company_id, date, event_id, events keeps, and which is the latest.
WITH pick AS (
    SELECT event_id
    FROM _repeated_rows
    GROUP BY event_id
    HAVING count(DISTINCT (company_id, date, events)) > 1
    ORDER BY count(*) DESC, event_id
    LIMIT 1
)
SELECT r.event_id, r.company_id, r.date, r.events, r.ingested_at, r.load_id,
       row_number() OVER (PARTITION BY r.company_id, r.date, r.event_id, r.events ORDER BY r.ingested_at) = 1
           AS kept_by_distinct,
       r.is_latest_version AND r.ingested_at = max(r.ingested_at) OVER (PARTITION BY r.event_id) AS is_latest_version
FROM _repeated_rows r
WHERE r.event_id IN (SELECT event_id FROM pick)
ORDER BY r.ingested_at
