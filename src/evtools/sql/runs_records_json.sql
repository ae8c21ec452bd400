-- A json or json-lines run log (one or more files) as the table _runs_records: one row per run (object), the log's
-- own keys as columns, their types inferred over every object.
-- makes: _runs_records
CREATE OR REPLACE TEMP TABLE _runs_records AS
SELECT * FROM read_json($files, format = 'auto', sample_size = -1, union_by_name = true, maximum_object_size = $size)
