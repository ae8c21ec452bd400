-- Incremental step 2, second half: the rows at the places found (_hits); DuckDB pushes their files and row numbers
-- into the scan, so it reads the row groups holding them. The rows ingested by the watermark are _old (what
-- refresh_lookup.sql makes, with one column read across the history instead of all). _fetched keeps every row found:
-- refresh_fetch_check.sql compares them with the places, so files rewritten between the two halves fail the run.
-- reads: _fact_events_located, _hits
-- makes: _fetched, _old
CREATE OR REPLACE TEMP TABLE _fetched AS
SELECT event_id, company_id, date, events, ingested_at, version
FROM _fact_events_located SEMI JOIN _hits USING (_file, _row);

CREATE OR REPLACE TEMP TABLE _old AS
SELECT * FROM _fetched WHERE ingested_at <= $watermark
