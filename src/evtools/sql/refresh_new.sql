-- Incremental step 1: the rows ingested since the watermark ($watermark < ingested_at <= $until) (_new), the stored
-- versions of their event ids (_old), and both as the input of versions.sql: a stored version stands for its rows
-- with ingested_at = its first arrival, so the rule sees the same first arrivals and version values as over all
-- rows.
-- reads: fact_events, agg.evtools_versions
-- makes: _new, _old, _version_rows
CREATE OR REPLACE TEMP TABLE _new AS
SELECT event_id, company_id, date, events, ingested_at, version
FROM fact_events
WHERE ingested_at > $watermark AND ingested_at <= $until;

CREATE OR REPLACE TEMP TABLE _old AS
SELECT o.* FROM agg.evtools_versions AS o WHERE o.event_id IN (SELECT event_id FROM _new);

CREATE OR REPLACE TEMP VIEW _version_rows AS
SELECT CAST(NULL AS TIMESTAMP) AS as_of, event_id, company_id, date, events, first_at AS ingested_at, version,
       CAST(NULL AS TIMESTAMP) AS key_t, CAST(NULL AS TIMESTAMP) AS event_ts
FROM _old
UNION ALL
SELECT CAST(NULL AS TIMESTAMP), event_id, company_id, date, events, ingested_at, version,
       CAST(NULL AS TIMESTAMP), CAST(NULL AS TIMESTAMP)
FROM _new
