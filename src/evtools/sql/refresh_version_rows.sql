-- Incremental step 4 (input of versions.sql): the touched event ids' rows in two views: as of the watermark
-- (as_of = $watermark: their rows ingested by then, _old) and after the run (as_of NULL: _old and the new rows).
-- reads: _old, _new
-- makes: _version_rows
CREATE OR REPLACE TEMP TABLE _version_rows AS
SELECT CAST($watermark AS TIMESTAMP) AS as_of, event_id, company_id, date, events, ingested_at, version,
       CAST(NULL AS TIMESTAMP) AS key_t, CAST(NULL AS TIMESTAMP) AS event_ts
FROM _old
UNION ALL
SELECT CAST(NULL AS TIMESTAMP), event_id, company_id, date, events, ingested_at, version,
       CAST(NULL AS TIMESTAMP), CAST(NULL AS TIMESTAMP)
FROM (SELECT * FROM _old UNION ALL SELECT * FROM _new) AS r
