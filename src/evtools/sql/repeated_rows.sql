-- The rows of event ids ingested more than once, each with its computation time t. Every duplicate, replay and
-- correction involves such an id; an id with one row is its own latest version in every view and adds no excess,
-- so the version rule only ever needs these rows (a small share of fact_events).
-- reads: _facts, _fact_t
-- makes: _repeated_rows
CREATE OR REPLACE TEMP TABLE _repeated_rows AS
SELECT event_id, company_id, date, events, ingested_at, version, load_id, event_ts, t
FROM _fact_t
WHERE event_id IN (SELECT event_id FROM _facts GROUP BY event_id HAVING count(*) > 1)
