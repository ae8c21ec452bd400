-- Incremental step 5: per key, what replacing the touched event ids' latest versions as of the watermark by their
-- latest versions after the run changes (from _versions; a new event with one row, not in _version_rows, adds its
-- row), and the new values of the changed keys (a key left with no version is dropped).
-- reads: _versions, _version_rows, _new, agg.agg_company_daily_events
-- makes: _delta, _newvals
CREATE OR REPLACE TEMP TABLE _delta AS
SELECT company_id, date, CAST(sum(ev) AS BIGINT) AS ev, CAST(sum(n) AS BIGINT) AS n
FROM (
    SELECT company_id, date, CASE WHEN as_of IS NULL THEN events ELSE -events END AS ev,
           CASE WHEN as_of IS NULL THEN 1 ELSE -1 END AS n
    FROM _versions
    WHERE is_latest
    UNION ALL
    SELECT company_id, date, events, 1 FROM _new
    WHERE event_id NOT IN (SELECT event_id FROM _version_rows)
) AS changes
GROUP BY company_id, date
HAVING sum(ev) <> 0 OR sum(n) <> 0;

CREATE OR REPLACE TEMP TABLE _newvals AS
SELECT d.company_id, d.date, coalesce(a.events, 0) + d.ev AS events, coalesce(a.rows, 0) + d.n AS rows
FROM _delta AS d
LEFT JOIN agg.agg_company_daily_events AS a ON a.company_id = d.company_id AND a.date = d.date
