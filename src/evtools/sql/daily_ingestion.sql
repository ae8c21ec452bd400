-- One ingestion day ($day) in the terms of the quality definitions: the rows ingested that day, and among them
-- duplicates (repeating an earlier or same-day row's company_id, date, event_id and events), corrections (a new
-- version of an event_id ingested before with another value or date) and rows of arrival lag > $lookback days
-- (evtools.rules: the rows a daily run with that lookback misses).
-- reads: fact_events
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
       CAST(coalesce(sum(events), 0) AS BIGINT) AS events,
       count(CASE WHEN is_duplicate THEN 1 END) AS duplicate_rows,
       CAST(coalesce(sum(CASE WHEN is_duplicate THEN events END), 0) AS BIGINT) AS duplicate_events,
       count(CASE WHEN is_new_version AND NOT is_duplicate THEN 1 END) AS correction_rows,
       count(CASE WHEN arrival_lag(date, ingested_at) > $lookback THEN 1 END) AS rows_older_than_lookback,
       CAST(coalesce(sum(CASE WHEN arrival_lag(date, ingested_at) > $lookback THEN events END), 0) AS BIGINT)
           AS events_older_than_lookback,
       count(DISTINCT date) AS dates_touched
FROM flags
