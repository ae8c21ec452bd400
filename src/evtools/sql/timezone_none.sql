-- No day-bucketing candidates (no candidate zone, or no event_ts): an empty _tz.
-- reads: _reconcile
-- makes: _tz
CREATE OR REPLACE TEMP TABLE _tz AS
SELECT company_id, CAST('' AS VARCHAR) AS zone, CAST(0 AS BIGINT) AS pos, date, CAST(0 AS BIGINT) AS latest_now
FROM _reconcile WHERE false
