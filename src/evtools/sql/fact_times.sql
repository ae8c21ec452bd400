-- fact_events with t, the time the dashboard computed the row's key (see dashboard_times.sql):
-- the key's computed_at, else its date's, else date + the fallback offset (_offset), else NULL.
CREATE OR REPLACE TEMP VIEW _fact_t AS
SELECT f.*,
       coalesce(k.computed_at, d.computed_at,
                CAST(f.date AS TIMESTAMP) + (SELECT fallback FROM _offset)) AS t
FROM _facts f
LEFT JOIN _times k ON k.company_id = f.company_id AND k.date = f.date
LEFT JOIN _date_times d ON d.date = f.date
