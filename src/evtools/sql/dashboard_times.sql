-- When the dashboard computed each key (the times fact_times.sql gives every row, see evtools.rules):
--   _date_times: per dashboard date, the computed_at all its keys share, or NULL when they differ;
--   _times:      the keys whose own computed_at is not their date's shared one (none when every date was
--                computed at one time, the common case: then rows find their T by date alone);
--   _offset:     dashboard_computed_offset_hours ($offset_hours) as an interval, or NULL;
--   _key_times:  per dashboard key, its computed_at (date + $offset_hours when it has none).
-- reads: dashboard
-- makes: _offset, _key_times, _date_times, _times
CREATE OR REPLACE TEMP TABLE _offset AS
SELECT CAST($offset_hours AS DOUBLE) * INTERVAL 1 HOUR AS fallback;

CREATE OR REPLACE TEMP TABLE _key_times AS
SELECT company_id, date,
       coalesce(max(computed_at), CAST(date AS TIMESTAMP) + (SELECT fallback FROM _offset)) AS computed_at
FROM dashboard
GROUP BY company_id, date;

CREATE OR REPLACE TEMP TABLE _date_times AS
SELECT date,
       CASE WHEN count(DISTINCT computed_at) = 1 AND count(*) = count(computed_at) THEN min(computed_at) END
           AS computed_at
FROM _key_times
GROUP BY date;

CREATE OR REPLACE TEMP TABLE _times AS
SELECT k.company_id, k.date, k.computed_at
FROM _key_times AS k
JOIN _date_times AS d ON d.date = k.date
WHERE d.computed_at IS NULL
