-- dbt's run_results.json files -> runs_raw, one row per result of each file. started_at is the first timing entry's
-- start (compile), finished_at the last one's end (execute); seconds is dbt's execution_time as written. Skipped nodes have no timing: they take the invocation's start.
-- outcome: success, pass and warn ran to the end, and so did a test that failed ("fail": it found rows).
-- makes: runs_raw
CREATE OR REPLACE TEMP TABLE runs_raw AS
WITH results AS (
    SELECT metadata, unnest(CAST(results AS JSON[])) AS r
    FROM read_json($files, columns = {metadata: 'JSON', results: 'JSON'}, maximum_object_size = $size)
)
SELECT
    r ->> 'unique_id' AS job,
    metadata ->> 'invocation_id' AS run_id,
    CAST(timezone('UTC', CAST(coalesce(
        r -> 'timing' -> 0 ->> 'started_at',
        metadata ->> 'invocation_started_at',
        metadata ->> 'generated_at'
    ) AS TIMESTAMPTZ)) AS TIMESTAMP) AS started_at,
    CAST(timezone('UTC', CAST(r -> 'timing' -> -1 ->> 'completed_at' AS TIMESTAMPTZ)) AS TIMESTAMP) AS finished_at,
    CAST(r ->> 'execution_time' AS DOUBLE) AS seconds,
    TRY_CAST(r -> 'adapter_response' ->> 'rows_affected' AS DOUBLE) AS rows,
    TRY_CAST(r -> 'adapter_response' ->> 'bytes_processed' AS DOUBLE) AS bytes,
    CAST(NULL AS DOUBLE) AS calls,
    r ->> 'status' AS status,
    CASE lower(r ->> 'status')
        WHEN 'success' THEN 'ok' WHEN 'pass' THEN 'ok' WHEN 'warn' THEN 'ok' WHEN 'fail' THEN 'ok'
        WHEN 'error' THEN 'failed' WHEN 'runtime error' THEN 'failed'
        WHEN 'skipped' THEN 'skipped' WHEN 'no-op' THEN 'skipped'
    END AS outcome
FROM results
