-- Airflow's REST API task instances ({"task_instances": [...], "total_entries": n}, one file per page) as the table
-- _runs_records: one row per task instance with the API's own field names (dag_id, task_id, start_date, end_date,
-- duration, state, ...).
-- makes: _runs_records
CREATE OR REPLACE TEMP TABLE _runs_records AS
SELECT ti.*
FROM (
    SELECT unnest(task_instances) AS ti
    FROM read_json($files, format = 'auto', sample_size = -1, union_by_name = true, maximum_object_size = $size)
)
