-- The fixed-window job, step 2: the window's keys from the latest versions among the window's rows.
-- reads: _versions
-- makes: _window
CREATE OR REPLACE TEMP TABLE _window AS
SELECT company_id, date, CAST(sum(events) AS BIGINT) AS events, CAST(count(*) AS BIGINT) AS rows
FROM _versions
WHERE is_latest AND date >= $since
GROUP BY company_id, date
