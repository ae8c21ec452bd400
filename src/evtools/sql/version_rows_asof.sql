-- The repeated rows as the version rule's input, in the views the waterfall needs: now (as_of NULL), and as of
-- each computation time T of a key the event has a row on (as_of = T: the event's rows ingested <= T).
-- reads: _repeated_rows
-- makes: _version_rows
CREATE OR REPLACE TEMP VIEW _version_rows AS
WITH views AS (
    SELECT DISTINCT event_id, t AS as_of FROM _repeated_rows WHERE t IS NOT NULL
)
SELECT CAST(NULL AS TIMESTAMP) AS as_of, event_id, company_id, date, events, ingested_at, version,
       t AS key_t, event_ts
FROM _repeated_rows
UNION ALL
SELECT v.as_of, r.event_id, r.company_id, r.date, r.events, r.ingested_at, r.version, r.t, r.event_ts
FROM views AS v
JOIN _repeated_rows AS r ON r.event_id = v.event_id AND r.ingested_at <= v.as_of
