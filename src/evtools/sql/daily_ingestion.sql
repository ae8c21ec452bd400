-- One ingestion day ($day) in the terms of the quality definitions: the rows ingested that day, and among them
-- duplicates (repeating an earlier or same-day row's company_id, date, event_id and events), corrections (a new
-- version of an event_id ingested before with another value or date) and rows for dates older than $lookback days.
WITH day_rows AS (
    SELECT *, row_number() OVER (PARTITION BY event_id, company_id, date, events ORDER BY ingested_at) AS copy_rank
    FROM fact_events
    WHERE ingested_at >= CAST($day AS TIMESTAMP) AND ingested_at < CAST($day AS TIMESTAMP) + INTERVAL 1 DAY
),
before AS (
    SELECT event_id, company_id, date, events
    FROM fact_events
    WHERE ingested_at < CAST($day AS TIMESTAMP)
      AND event_id IN (SELECT event_id FROM day_rows)
),
flags AS (
    SELECT d.*,
           copy_rank > 1 OR EXISTS (SELECT 1 FROM before b WHERE b.event_id = d.event_id AND b.company_id = d.company_id
                                    AND b.date = d.date AND b.events = d.events) AS is_duplicate,
           EXISTS (SELECT 1 FROM before b WHERE b.event_id = d.event_id
                   AND (b.company_id <> d.company_id OR b.date <> d.date OR b.events <> d.events)) AS is_new_version
    FROM day_rows d
)
SELECT count(*) AS rows,
       coalesce(sum(events), 0)::BIGINT AS events,
       count(*) FILTER (WHERE is_duplicate) AS duplicate_rows,
       coalesce(sum(events) FILTER (WHERE is_duplicate), 0)::BIGINT AS duplicate_events,
       count(*) FILTER (WHERE is_new_version AND NOT is_duplicate) AS correction_rows,
       count(*) FILTER (WHERE date < CAST($day AS DATE) - $lookback) AS rows_older_than_lookback,
       coalesce(sum(events) FILTER (WHERE date < CAST($day AS DATE) - $lookback), 0)::BIGINT AS events_older_than_lookback,
       count(DISTINCT date) AS dates_touched
FROM flags
