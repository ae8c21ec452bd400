-- The rows of event ids ingested more than once, with their versions resolved. Every duplicate, replay and
-- correction involves such an id; an id ingested once is its own latest version and adds no excess, so later steps
-- only need these rows (a small share of fact_events).
-- latest version of an event_id: its row with the greatest ingested_at (ties: the larger events).
-- first load of an event_id: the load of its earliest row (ties: the smaller load_id).
-- t: when the dashboard computed the row's key (as in fact_times.sql).
CREATE OR REPLACE TEMP TABLE _repeated_rows AS
WITH r0 AS (
    SELECT event_id, company_id, date, events, ingested_at, load_id, event_ts
    FROM _facts
    WHERE event_id IN (SELECT event_id FROM _facts GROUP BY event_id HAVING count(*) > 1)
),
r AS (
    SELECT r0.*,
           coalesce(k.computed_at, d.computed_at, CAST(r0.date AS TIMESTAMP) + (SELECT fallback FROM _offset)) AS t
    FROM r0
    LEFT JOIN _times k ON k.company_id = r0.company_id AND k.date = r0.date
    LEFT JOIN _date_times d ON d.date = r0.date
),
latest AS (  -- struct max/min order by their fields in turn: (ingested_at, events, ...) picks the latest row
    SELECT event_id,
           max((ingested_at, events, date, company_id)) AS l,
           min((ingested_at, load_id)) AS f
    FROM r
    GROUP BY event_id
)
SELECT r.*, l.f[2] AS first_load, l.f[1] AS first_at,
       (r.company_id = l.l[4] AND r.date = l.l[3] AND r.events = l.l[2]) AS is_latest_version
FROM r JOIN latest l USING (event_id)
