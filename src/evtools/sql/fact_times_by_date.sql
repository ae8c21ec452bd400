-- fact_times.sql when all dashboard keys of each date share one computation time: the same t, looked up by date
-- alone, which keeps the join's build side tiny (a few hundred dates instead of every key).
CREATE OR REPLACE TEMP VIEW _fact_t AS
SELECT f.*,
       coalesce(d.computed_at,
                CAST(f.date AS TIMESTAMP) + (SELECT fallback FROM _offset)) AS t
FROM _facts f
LEFT JOIN _date_times d ON d.date = f.date
