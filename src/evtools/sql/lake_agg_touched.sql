-- The aggregate's partitions of the touched dates after the run (refresh_apply.sql in one query, for engines that
-- write partitions rather than update tables): their keys that did not change, and the changed keys' new values.
-- _agg_touched is the aggregate's partitions of the dates in _touched_dates, read by path.
-- reads: _agg_touched, _delta, _newvals
-- makes: _agg_src
CREATE OR REPLACE TEMP TABLE _agg_src AS
SELECT a.company_id, a.date, a.events, a.rows, a.refreshed_at
FROM _agg_touched AS a
WHERE NOT EXISTS (SELECT 1 FROM _delta AS d WHERE d.company_id = a.company_id AND d.date = a.date)
UNION ALL
SELECT company_id, date, events, rows, CAST($now AS TIMESTAMP) FROM _newvals WHERE rows > 0
