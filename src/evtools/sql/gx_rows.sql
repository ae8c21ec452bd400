-- expectations batch "rows": the dataset's (_gx_source) rows of $date.
SELECT * FROM _gx_source WHERE date = $date
