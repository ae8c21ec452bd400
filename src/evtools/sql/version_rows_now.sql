-- The repeated rows as the version rule's input, in one view: now (as_of NULL, over all rows).
-- reads: _repeated_rows
-- makes: _version_rows
CREATE OR REPLACE TEMP VIEW _version_rows AS
SELECT CAST(NULL AS TIMESTAMP) AS as_of, event_id, company_id, date, events, ingested_at, version,
       t AS key_t, event_ts
FROM _repeated_rows
