-- Incremental step 1: the rows ingested since the watermark ($watermark < ingested_at <= $until), reduced to the
-- latest version per event_id among them (_cand), and the versions they supersede (_old, from the state).
-- A new row always supersedes the stored version: its ingested_at is after the watermark, the stored one's is not.
CREATE OR REPLACE TEMP TABLE _new AS
SELECT event_id, company_id, date, events, ingested_at
FROM fact_events
WHERE ingested_at > $watermark AND ingested_at <= $until;

CREATE OR REPLACE TEMP TABLE _cand AS
SELECT event_id, l[4] AS company_id, l[3] AS date, l[2] AS events, l[1] AS ingested_at
FROM (SELECT event_id, max((ingested_at, events, date, company_id)) AS l FROM _new GROUP BY event_id);

CREATE OR REPLACE TEMP TABLE _old AS
SELECT o.* FROM agg.evtools_latest o WHERE o.event_id IN (SELECT event_id FROM _cand);
