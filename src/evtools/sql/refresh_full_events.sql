-- Full build, step 1: one pass over the rows ingested <= $until, one row per event_id. An event_id whose rows all
-- carry one payload is that payload, its own latest version (first_at = its first arrival, version = its greatest
-- version value); the row of an event_id with several payloads is a placeholder (is_latest NULL), replaced by its
-- versions in step 2.
-- reads: fact_events
-- makes: agg.evtools_versions
CREATE OR REPLACE TABLE agg.evtools_versions AS
SELECT event_id, c0 AS company_id, d0 AS date, e0 AS events, first_at, version,
       CASE WHEN c0 = c1 AND d0 = d1 AND e0 = e1 THEN true END AS is_latest
FROM (
    SELECT event_id,
           min(company_id) AS c0, max(company_id) AS c1, min(date) AS d0, max(date) AS d1,
           min(events) AS e0, max(events) AS e1, min(ingested_at) AS first_at, max(version) AS version
    FROM fact_events
    WHERE ingested_at <= $until
    GROUP BY event_id
) AS e
