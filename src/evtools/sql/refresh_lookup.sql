-- Incremental step 2: the rows ingested by the watermark of the touched event ids (_old), looked up in fact_events
-- itself, where the data lies. DuckDB pushes the touched ids into the scan, so the statistics of the files and row
-- groups holding none of them spare the reading (with time-ordered ids, all but the recent part of the history).
-- reads: fact_events, _touched
-- makes: _old
CREATE OR REPLACE TEMP TABLE _old AS
SELECT event_id, company_id, date, events, ingested_at, version
FROM fact_events
WHERE ingested_at <= $watermark
  AND event_id IN (SELECT event_id FROM _touched)
