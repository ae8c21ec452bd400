-- A csv run log (one or more files) as the table _runs_records: one row per run, the log's own columns, their types
-- sniffed over every row.
-- makes: _runs_records
CREATE OR REPLACE TEMP TABLE _runs_records AS
SELECT * FROM read_csv($files, sample_size = -1, union_by_name = true)
