-- runs_raw (canonical columns in the log's own words) -> runs: one row per run that has a start or an end time.
-- The missing one of started_at / finished_at / seconds is derived from the other two; run_no numbers each job's
-- runs by started_at from 1. status is the log's status in one vocabulary (outcome, when the format's reader set it,
-- wins):
--   ok          the run ran to the end (success, succeeded, pass, done, ...; evtools' "exit 1": a check failed)
--   failed      it stopped with an error, was killed or cancelled (failed, error, up_for_retry, ...)
--   timeout     it was stopped for running too long (timeout, timed_out, ...)
--   skipped     it did nothing (skipped, upstream_failed, no-op, ...; evtools' "exit 2": bad input)
--   unfinished  it has not ended (running, queued, ...)
--   other       any other word
-- A log without a status column counts every run with a duration as ok.
-- reads: runs_raw
-- makes: runs
CREATE OR REPLACE TEMP TABLE runs AS
WITH timed AS (
    SELECT
        CAST(job AS VARCHAR) AS job,
        CAST(run_id AS VARCHAR) AS run_id,
        coalesce(started_at, finished_at - to_microseconds(CAST(round(seconds * 1e6) AS BIGINT))) AS started_at,
        coalesce(finished_at, started_at + to_microseconds(CAST(round(seconds * 1e6) AS BIGINT))) AS finished_at,
        coalesce(seconds, epoch(finished_at - started_at)) AS seconds,
        rows,
        bytes,
        calls,
        CAST(status AS VARCHAR) AS status_raw,
        outcome,
        lower(trim(CAST(status AS VARCHAR))) AS s
    FROM runs_raw
    WHERE started_at IS NOT NULL OR finished_at IS NOT NULL
)
SELECT
    row_number() OVER (PARTITION BY job ORDER BY started_at, run_id) AS run_no,
    * EXCLUDE (status_raw, outcome, s),
    coalesce(outcome, CASE
        WHEN s IS NULL THEN CASE WHEN seconds IS NULL THEN 'unfinished' ELSE 'ok' END
        WHEN s IN ('ok', 'success', 'succeeded', 'successful', 'pass', 'passed', 'complete', 'completed', 'done',
                   'finished', 'warn', 'warning', '0', 'exit 1') THEN 'ok'
        WHEN s LIKE '%timeout%' OR s LIKE '%timed out%' OR s LIKE '%timed_out%' OR s = 'deadline_exceeded'
            THEN 'timeout'
        WHEN s IN ('skipped', 'skip', 'upstream_failed', 'removed', 'noop', 'no-op', 'no_op', 'exit 2')
            THEN 'skipped'
        WHEN s IN ('running', 'queued', 'scheduled', 'up_for_reschedule', 'deferred', 'restarting', 'pending',
                   'started', 'none', 'in_progress')
            THEN 'unfinished'
        WHEN s IN ('failed', 'fail', 'failure', 'error', 'errored', 'crashed', 'killed', 'cancelled', 'canceled',
                   'aborted', 'terminated', 'up_for_retry', 'shutdown')
            OR s LIKE 'failed%' OR s LIKE 'exit %' OR s LIKE 'error%'
            THEN 'failed'
        ELSE 'other'
    END) AS status,
    status_raw
FROM timed
