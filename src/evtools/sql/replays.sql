-- The repeats of every load, grouped for replayed_loads.sql: the rows of repeated event ids ingested after their
-- payload's first arrival (_versions, now) whose payload's first load (the load of its earliest row; ties: the
-- smaller load_id) is another load, per (load_id, first_load): their rows, events, and first and last date.
-- reads: _repeated_rows, _versions
-- makes: _replays
CREATE OR REPLACE TEMP TABLE _replays AS
WITH r AS (
    SELECT r.load_id, r.events, r.date, r.ingested_at, v.first_at,
           min(CASE WHEN r.ingested_at = v.first_at THEN r.load_id END)
               OVER (PARTITION BY r.event_id, r.company_id, r.date, r.events) AS first_load
    FROM _repeated_rows AS r
    JOIN _versions AS v
      ON v.as_of IS NULL AND v.event_id = r.event_id AND v.company_id = r.company_id AND v.date = r.date
         AND v.events = r.events
)
SELECT load_id, first_load, count(*) AS rows, CAST(sum(events) AS BIGINT) AS events,
       min(date) AS first_date, max(date) AS last_date
FROM r
WHERE ingested_at > first_at AND first_load <> load_id
GROUP BY load_id, first_load
