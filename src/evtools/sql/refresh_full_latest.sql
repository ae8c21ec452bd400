-- Full build, step 1: the latest version of every event_id among the rows ingested <= $until.
-- latest version: the row with the greatest ingested_at (ties: the larger events).
CREATE OR REPLACE TABLE agg.evtools_latest AS
SELECT event_id, l[4] AS company_id, l[3] AS date, l[2] AS events, l[1] AS ingested_at
FROM (
    SELECT event_id, max((ingested_at, events, date, company_id)) AS l
    FROM fact_events
    WHERE ingested_at <= $until
    GROUP BY event_id
)
