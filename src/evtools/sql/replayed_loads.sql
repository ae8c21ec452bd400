-- Per load_id: its rows, and the rows repeating a payload (evtools.rules) first ingested in an earlier load: rows
-- of repeated event ids ingested after their payload's first arrival, whose payload's first load (the load of its
-- earliest row; ties: the smaller load_id) is another load. replayed load: more than $min_share of its rows repeat;
-- source_load_id: the load most of its repeated rows were first ingested in (ties: the smaller).
-- reads: _facts, _repeated_rows, _versions
WITH loads AS (
    SELECT load_id, count(*) AS rows, CAST(sum(events) AS BIGINT) AS events,
           min(ingested_at) AS first_ingested_at, max(ingested_at) AS last_ingested_at
    FROM _facts
    GROUP BY load_id
),
r AS (
    SELECT r.load_id, r.events, r.date, r.ingested_at, v.first_at,
           min(CASE WHEN r.ingested_at = v.first_at THEN r.load_id END)
               OVER (PARTITION BY r.event_id, r.company_id, r.date, r.events) AS first_load
    FROM _repeated_rows AS r
    JOIN _versions AS v
      ON v.as_of IS NULL AND v.event_id = r.event_id AND v.company_id = r.company_id AND v.date = r.date
         AND v.events = r.events
),
repeats AS (
    SELECT * FROM r WHERE ingested_at > first_at AND first_load <> load_id
),
sources AS (
    SELECT load_id, first_load,
           row_number() OVER (PARTITION BY load_id ORDER BY count(*) DESC, first_load) AS pick
    FROM repeats
    GROUP BY load_id, first_load
),
rep AS (
    SELECT load_id, count(*) AS repeated_rows, CAST(sum(events) AS BIGINT) AS repeated_events,
           min(date) AS first_date, max(date) AS last_date
    FROM repeats
    GROUP BY load_id
)
SELECT l.load_id, l.rows, rep.repeated_rows,
       rep.repeated_rows / l.rows AS share_repeated,
       rep.repeated_events AS events_added,
       s.first_load AS source_load_id, l.first_ingested_at, l.last_ingested_at, rep.first_date, rep.last_date
FROM loads AS l
JOIN rep ON rep.load_id = l.load_id
JOIN sources AS s ON s.load_id = l.load_id AND s.pick = 1
WHERE rep.repeated_rows > $min_share * l.rows
ORDER BY events_added DESC, l.load_id
