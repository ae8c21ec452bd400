-- The state tables of the aggregate database (the aggregate and the versions are made by the full build).
-- makes: agg.evtools_state, agg.evtools_runs
CREATE TABLE IF NOT EXISTS agg.evtools_state (
    strategy VARCHAR, watermark TIMESTAMP, updated_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS agg.evtools_runs (
    run_id INTEGER, started_at TIMESTAMP, ended_at TIMESTAMP, strategy VARCHAR, mode VARCHAR,
    watermark_before TIMESTAMP, watermark_after TIMESTAMP, until TIMESTAMP,
    rows_read BIGINT, keys_changed BIGINT, dates_recomputed BIGINT,
    missed_by_lookback_rows BIGINT, missed_by_lookback_events BIGINT, status VARCHAR, error VARCHAR
)
