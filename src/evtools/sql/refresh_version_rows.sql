-- Incremental step 4 (input of versions.sql): the rows of the touched event ids that need the rule, those with rows
-- ingested by the watermark (_old) or with more than one new row, in two views: as of the watermark
-- (as_of = $watermark: their rows in _old) and after the run (as_of NULL: their rows in _old and _new). A new event
-- with one row is its own latest version after the run and had none before (refresh_delta.sql adds it directly).
-- reads: _old, _new
-- makes: _version_rows
CREATE OR REPLACE TEMP TABLE _version_rows AS
WITH ruled AS (
    SELECT event_id FROM _old
    UNION
    SELECT event_id FROM _new GROUP BY event_id HAVING count(*) > 1
)
SELECT CAST($watermark AS TIMESTAMP) AS as_of, event_id, company_id, date, events, ingested_at, version,
       CAST(NULL AS TIMESTAMP) AS key_t, CAST(NULL AS TIMESTAMP) AS event_ts
FROM _old
UNION ALL
SELECT CAST(NULL AS TIMESTAMP), event_id, company_id, date, events, ingested_at, version,
       CAST(NULL AS TIMESTAMP), CAST(NULL AS TIMESTAMP)
FROM (
    SELECT * FROM _old
    UNION ALL
    SELECT * FROM _new WHERE event_id IN (SELECT event_id FROM ruled)
) AS r
