-- The state's partitions of the touched dates after the run: their stored versions of untouched event ids, and
-- the versions of the touched ones (_versions). _state_touched is the state's partitions of the dates in _touched,
-- read by path.
-- reads: _state_touched, _new, _versions
-- makes: _state_src
CREATE OR REPLACE TEMP TABLE _state_src AS
SELECT s.event_id, s.company_id, s.date, s.events, s.first_at, s.version, s.is_latest
FROM _state_touched AS s
WHERE s.event_id NOT IN (SELECT event_id FROM _new)
UNION ALL
SELECT event_id, company_id, date, events, first_at, version, is_latest FROM _versions
