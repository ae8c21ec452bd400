-- The aggregate against a full recomputation as of $until (latest version per event_id over the rows ingested
-- <= $until): every key where events or rows differ.
WITH full_agg AS (
    SELECT l[4] AS company_id, l[3] AS date, sum(l[2])::BIGINT AS events, count(*)::BIGINT AS rows
    FROM (
        SELECT event_id, max((ingested_at, events, date, company_id)) AS l
        FROM fact_events WHERE ingested_at <= $until GROUP BY event_id
    )
    GROUP BY ALL
)
SELECT coalesce(a.company_id, f.company_id) AS company_id, coalesce(a.date, f.date) AS date,
       a.events AS table_events, f.events AS full_events, a.rows AS table_rows, f.rows AS full_rows
FROM agg.agg_company_daily_events a
FULL JOIN full_agg f ON a.company_id = f.company_id AND a.date = f.date
WHERE a.events IS DISTINCT FROM f.events OR a.rows IS DISTINCT FROM f.rows
ORDER BY company_id NULLS FIRST, date NULLS FIRST
