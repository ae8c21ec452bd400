-- Incremental step 1: the rows ingested since the watermark ($watermark < ingested_at <= $until) and their event
-- ids.
-- reads: fact_events
-- makes: _new, _touched
CREATE OR REPLACE TEMP TABLE _new AS
SELECT event_id, company_id, date, events, ingested_at, version
FROM fact_events
WHERE ingested_at > $watermark AND ingested_at <= $until;

CREATE OR REPLACE TEMP TABLE _touched AS
SELECT DISTINCT event_id FROM _new
