-- expectations batch "keys": one row per (company_id, date) of the dataset (_gx_source) on $date, n = its rows.
-- reads: _gx_source
SELECT company_id, date, count(*) AS n FROM _gx_source WHERE date = $date GROUP BY company_id, date ORDER BY n DESC
