-- No dashboard source: no key or date has a computation time; T is date + $offset_hours when that setting is
-- given, else unknown (see dashboard_times.sql).
-- reads: _facts
-- makes: _times, _date_times, _offset
CREATE OR REPLACE TEMP TABLE _times AS
SELECT company_id, date, CAST(NULL AS TIMESTAMP) AS computed_at FROM _facts WHERE false;

CREATE OR REPLACE TEMP TABLE _date_times AS
SELECT CAST(NULL AS DATE) AS date, CAST(NULL AS TIMESTAMP) AS computed_at WHERE false;

CREATE OR REPLACE TEMP TABLE _offset AS
SELECT CAST($offset_hours AS DOUBLE) * INTERVAL 1 HOUR AS fallback
