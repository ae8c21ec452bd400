-- expectations batch "rows": the dataset's (_gx_source) rows of $date.
-- reads: _gx_source
SELECT * FROM _gx_source WHERE date = $date
