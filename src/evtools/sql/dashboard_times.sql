-- When the dashboard computed each key, T:
--   _times:      per dashboard key, its computed_at;
--   _date_times: per date, the one computed_at all dashboard keys of that date share (the run that computed the
--                whole date), or NULL when they differ.
-- A key without a dashboard row takes its date's T (the job ran then and found no rows for it), else
-- date + $offset_hours (the dashboard_computed_offset_hours setting, kept in _offset), else T is unknown (NULL).
CREATE OR REPLACE TEMP TABLE _times AS
SELECT company_id, date,
       coalesce(max(computed_at),
                CAST(date AS TIMESTAMP) + to_microseconds(CAST($offset_hours * 3600000000 AS BIGINT))) AS computed_at
FROM dashboard
GROUP BY company_id, date;

CREATE OR REPLACE TEMP TABLE _date_times AS
SELECT date, CASE WHEN count(DISTINCT computed_at) = 1 THEN min(computed_at) END AS computed_at,
       count(DISTINCT computed_at) = 1 AND count(*) = count(computed_at) AS uniform
FROM _times
GROUP BY date;

CREATE OR REPLACE TEMP TABLE _offset AS
SELECT to_microseconds(CAST($offset_hours * 3600000000 AS BIGINT)) AS fallback;
