-- Incremental step 2, first half, where fact_events is parquet (sources.LOCATED): the places (file, row) of every
-- row of the touched event ids, found by reading the event_id column alone. With random ids every row group may hold
-- one, so this reads the whole column once; the other columns are read for these rows only (refresh_fetch.sql).
-- reads: _fact_events_located, _touched
-- makes: _hits
CREATE OR REPLACE TEMP TABLE _hits AS
SELECT _file, _row FROM _fact_events_located WHERE event_id IN (SELECT event_id FROM _touched)
