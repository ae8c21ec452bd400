-- Incremental step 2: per key, what replacing the superseded versions by the new latest ones changes, and the new
-- values of the changed keys (a key left with no version is dropped).
CREATE OR REPLACE TEMP TABLE _delta AS
SELECT company_id, date, sum(ev)::BIGINT AS ev, sum(n)::BIGINT AS n
FROM (
    SELECT company_id, date, events AS ev, 1 AS n FROM _cand
    UNION ALL
    SELECT company_id, date, -events, -1 FROM _old
)
GROUP BY company_id, date
HAVING sum(ev) <> 0 OR sum(n) <> 0;

CREATE OR REPLACE TEMP TABLE _newvals AS
SELECT d.company_id, d.date, coalesce(a.events, 0) + d.ev AS events, coalesce(a.rows, 0) + d.n AS rows
FROM _delta d
LEFT JOIN agg.agg_company_daily_events a ON a.company_id = d.company_id AND a.date = d.date;
