-- One corrected event id (it has a superseded version), preferring one whose versions were also duplicated: its
-- rows, which of them SELECT DISTINCT company_id, date, event_id, events keeps, and which is the latest version.
-- reads: _repeated_rows, _versions
WITH pick AS (
    SELECT event_id, sum(n) AS copies  -- the ordering value selected: Spark cannot order a HAVING query by an aggregate
    FROM _versions
    WHERE as_of IS NULL
    GROUP BY event_id
    HAVING count(*) > 1
    ORDER BY copies DESC, event_id
    LIMIT 1
),
ranked AS (
    SELECT r.*,
           row_number() OVER (PARTITION BY r.company_id, r.date, r.event_id, r.events ORDER BY r.ingested_at)
               AS copy_rank
    FROM _repeated_rows AS r
    WHERE r.event_id IN (SELECT event_id FROM pick)
)
SELECT x.event_id, x.company_id, x.date, x.events, x.ingested_at, x.load_id,
       x.copy_rank = 1 AS kept_by_distinct,
       x.copy_rank = 1 AND v.is_latest AS is_latest_version
FROM ranked AS x
JOIN _versions AS v
  ON v.as_of IS NULL AND v.event_id = x.event_id AND v.company_id = x.company_id AND v.date = x.date
     AND v.events = x.events
ORDER BY x.ingested_at
