-- The event ids with more than one row in fact_events (any date, any ingestion time): the only ids whose rows can
-- form a duplicate group (gx_fact_duplicates_all.sql) or may need the latest-version rule (gx_agg_version_rows_all.sql).
-- The one aggregation over every event_id a validation of all dates makes; both batches share it.
-- reads: fact_events
-- makes: _gx_repeated
CREATE OR REPLACE TEMP TABLE _gx_repeated AS
SELECT event_id FROM fact_events GROUP BY event_id HAVING count(*) > 1
