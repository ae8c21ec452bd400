-- Full build on a lakehouse, step 3 (refresh_full_versions.sql in one query, for engines that write partitions
-- rather than update tables): the state with the placeholders of the first pass replaced by the versions of
-- their event ids.
-- reads: agg.evtools_versions, _versions
-- makes: _state_src
CREATE OR REPLACE TEMP VIEW _state_src AS
SELECT event_id, company_id, date, events, first_at, version, is_latest
FROM agg.evtools_versions
WHERE is_latest IS NOT NULL
UNION ALL
SELECT event_id, company_id, date, events, first_at, version, is_latest FROM _versions
