-- Airflow's REST API task instances (the view _runs_file: task_instances, one row per page) -> _runs_records, one
-- row per task instance with the API's own field names (dag_id, task_id, start_date, end_date, duration, state, ...).
CREATE OR REPLACE TEMP VIEW _runs_records AS
SELECT ti.*
FROM (SELECT unnest(task_instances) AS ti FROM _runs_file)
