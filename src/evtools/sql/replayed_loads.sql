-- Per load_id: its rows, and the rows repeating an event_id first ingested in an earlier load (the event's
-- earliest row lies in another load). replayed load: more than half of its rows repeat.
WITH loads AS (
    SELECT load_id, count(*) AS rows, sum(events)::BIGINT AS events,
           min(ingested_at) AS first_ingested_at, max(ingested_at) AS last_ingested_at
    FROM _facts
    GROUP BY load_id
),
rep AS (
    SELECT load_id, count(*) AS repeated_rows, sum(events)::BIGINT AS repeated_events,
           mode(first_load) AS source_load_id,
           min(date) AS first_date, max(date) AS last_date
    FROM _repeated_rows
    WHERE first_load IS DISTINCT FROM load_id
    GROUP BY load_id
)
SELECT l.load_id, l.rows, coalesce(r.repeated_rows, 0) AS repeated_rows,
       coalesce(r.repeated_rows, 0) / l.rows AS share_repeated,
       coalesce(r.repeated_events, 0) AS events_added,
       r.source_load_id, l.first_ingested_at, l.last_ingested_at, r.first_date, r.last_date
FROM loads l
JOIN rep r USING (load_id)
WHERE r.repeated_rows > $min_share * l.rows
ORDER BY events_added DESC, l.load_id
