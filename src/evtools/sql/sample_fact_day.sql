-- sample generator: one ingestion day's rows of r as a fact_events parquet file, in ingestion order.
COPY (
    SELECT event_id, company_id, CAST(to_timestamp(ts) AS DATE) AS date,
           to_timestamp(ts) AS event_ts, events,
           CAST(to_timestamp(ingested) AS TIMESTAMP) AS ingested_at, load_id
    FROM r WHERE ingested // 86400 = $d ORDER BY ingested, event_id, kind
) TO $p (FORMAT parquet, ROW_GROUP_SIZE 122880)
