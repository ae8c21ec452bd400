-- Per load_id: its rows (_loads), and the rows repeating a payload (evtools.rules) first ingested in an earlier load
-- (_replays: rows of repeated event ids ingested after their payload's first arrival, whose payload's first load is
-- another load). replayed load: more than $min_share of its rows repeat; source_load_id: the load most of its
-- repeated rows were first ingested in (ties: the smaller).
-- reads: _loads, _replays
WITH sources AS (
    SELECT load_id, first_load,
           row_number() OVER (PARTITION BY load_id ORDER BY rows DESC, first_load) AS pick
    FROM _replays
),
rep AS (
    SELECT load_id, CAST(sum(rows) AS BIGINT) AS repeated_rows, CAST(sum(events) AS BIGINT) AS repeated_events,
           min(first_date) AS first_date, max(last_date) AS last_date
    FROM _replays
    GROUP BY load_id
)
SELECT l.load_id, l.rows, rep.repeated_rows,
       rep.repeated_rows / l.rows AS share_repeated,
       rep.repeated_events AS events_added,
       s.first_load AS source_load_id, l.first_ingested_at, l.last_ingested_at, rep.first_date, rep.last_date
FROM _loads AS l
JOIN rep ON rep.load_id = l.load_id
JOIN sources AS s ON s.load_id = l.load_id AND s.pick = 1
WHERE l.load_id IS NOT NULL AND rep.repeated_rows > $min_share * l.rows
ORDER BY events_added DESC, l.load_id
