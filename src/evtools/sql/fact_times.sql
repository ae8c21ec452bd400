-- A row's computation time t (evtools.rules): its key's computed_at when the key's time differs from its
-- date's (_times), else its date's shared computed_at (_date_times), else date + the fallback offset (_offset),
-- else NULL (unknown).
-- reads: _facts, _times, _date_times, _offset
-- makes: _fact_t
CREATE OR REPLACE TEMP VIEW _fact_t AS
SELECT f.*,
       coalesce(k.computed_at, d.computed_at,
                CAST(f.date AS TIMESTAMP) + (SELECT fallback FROM _offset)) AS t
FROM _facts AS f
LEFT JOIN _times AS k ON k.company_id = f.company_id AND k.date = f.date
LEFT JOIN _date_times AS d ON d.date = f.date
