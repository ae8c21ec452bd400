-- Full build, step 3: the placeholders replaced by the versions of their event ids.
-- reads: _versions, agg.evtools_versions
-- makes: agg.evtools_versions
DELETE FROM agg.evtools_versions WHERE is_latest IS NULL;

INSERT INTO agg.evtools_versions
SELECT event_id, company_id, date, events, first_at, version, is_latest FROM _versions
