-- sample generator: the ground truth per (company_id, date), from the labelled rows r (kind 0 original, 1 correction,
-- 2 retry copy, 3 replay copy, 4 backfill copy) and the logical events ev (fate 0 received, 1 missing, 2 pending); see
-- evtools.sample.TRUTH_COLUMNS for what each column means.
COPY (
SELECT company_id, date, COLUMNS(* EXCLUDE (company_id, date))::BIGINT FROM (
WITH rk AS (
    SELECT company_id, ts // 86400 AS d, events, ingested, kind,
           ingested > (ts // 86400 + 2) * 86400 + 7200 AS late,
           ingested <= (ts // 86400 + 2) * 86400 + 7200 AS by_t
    FROM r
),
by_rows AS (
    SELECT company_id, d,
        count(*) AS rows,
        count(*) FILTER (WHERE kind = 2) AS retry_rows,
        coalesce(sum(events) FILTER (WHERE kind = 2), 0) AS retry_excess,
        count(*) FILTER (WHERE kind = 3) AS replay_rows,
        coalesce(sum(events) FILTER (WHERE kind = 3), 0) AS replay_excess,
        count(*) FILTER (WHERE kind = 4) AS backfill_rows,
        coalesce(sum(events) FILTER (WHERE kind = 4), 0) AS backfill_excess,
        count(*) FILTER (WHERE late) AS late_rows,
        coalesce(sum(events) FILTER (WHERE late), 0) AS late_events,
        coalesce(sum(events) FILTER (WHERE kind IN (2, 3, 4) AND by_t), 0) AS dup_asof
    FROM rk GROUP BY ALL
),
e AS (
    SELECT *, ts // 86400 AS d1, corr_ts // 86400 AS d2,
           (ts // 86400 + 2) * 86400 + 7200 AS t1, (corr_ts // 86400 + 2) * 86400 + 7200 AS t2,
           CASE WHEN corrected THEN corr_ts // 86400 ELSE ts // 86400 END AS dfinal,
           CASE WHEN corrected THEN corr_value ELSE value END AS vfinal
    FROM ev
),
contrib AS (  -- one row per (event, key) it touches: superseded, as-of and now contributions
    SELECT company_id, d1 AS d,
        (fate = 0 AND corrected)::INT AS superseded, CASE WHEN fate = 0 AND corrected THEN value ELSE 0 END AS sup_ev,
        CASE WHEN fate = 0 AND corrected AND corr_at <= t1 THEN value ELSE 0 END AS corr_asof,
        CASE WHEN fate <> 0 OR arrive > t1 THEN 0
             WHEN corrected AND corr_at <= t1 THEN (CASE WHEN d2 = d1 THEN corr_value ELSE 0 END)
             ELSE value END AS asof_latest,
        CASE WHEN fate = 0 AND dfinal = d1 THEN vfinal ELSE 0 END AS now_latest,
        (fate = 1)::INT AS missing_rows, CASE WHEN fate = 1 THEN value ELSE 0 END AS missing_events,
        (fate = 2)::INT AS pending_rows, CASE WHEN fate = 2 THEN value ELSE 0 END AS pending_events,
        CASE WHEN dfinal = d1 THEN vfinal ELSE 0 END AS true_events
    FROM e
    UNION ALL
    SELECT company_id, d2, 0, 0, 0,
        CASE WHEN corr_at <= t2 THEN corr_value ELSE 0 END, corr_value, 0, 0, 0, 0, corr_value
    FROM e WHERE corrected AND d2 <> d1
),
by_events AS (
    SELECT company_id, d,
        sum(superseded) AS superseded_versions, sum(sup_ev) AS correction_excess, sum(corr_asof) AS correction_asof,
        sum(asof_latest) - sum(now_latest) AS late_component,
        sum(missing_rows) AS missing_rows, sum(missing_events) AS missing_events,
        sum(pending_rows) AS pending_rows, sum(pending_events) AS pending_events,
        sum(true_events) AS true_events
    FROM contrib GROUP BY ALL
),
k AS (
    SELECT company_id, CAST(to_timestamp(d * 86400) AS DATE) AS date, * EXCLUDE (company_id, d) FROM by_events
)
SELECT company_id, date,
    coalesce(rows, 0) AS rows,
    coalesce(retry_rows, 0) AS retry_rows, coalesce(retry_excess, 0) AS retry_excess,
    coalesce(replay_rows, 0) AS replay_rows, coalesce(replay_excess, 0) AS replay_excess,
    coalesce(backfill_rows, 0) AS backfill_rows, coalesce(backfill_excess, 0) AS backfill_excess,
    coalesce(retry_rows, 0) + coalesce(replay_rows, 0) + coalesce(backfill_rows, 0) AS duplicate_rows,
    coalesce(retry_excess, 0) + coalesce(replay_excess, 0) + coalesce(backfill_excess, 0) AS duplicate_excess,
    coalesce(superseded_versions, 0) AS superseded_versions, coalesce(correction_excess, 0) AS correction_excess,
    coalesce(late_rows, 0) AS late_rows, coalesce(late_events, 0) AS late_events,
    coalesce(missing_rows, 0) AS missing_rows, coalesce(missing_events, 0) AS missing_events,
    coalesce(pending_rows, 0) AS pending_rows, coalesce(pending_events, 0) AS pending_events,
    coalesce(true_events, 0) AS true_events,
    coalesce(api.events, 0) AS api_events,
    coalesce(dash.events, 0) AS dashboard_events,
    coalesce(dup_asof, 0) AS dup_asof,
    coalesce(correction_asof, 0) AS correction_asof,
    coalesce(late_component, 0) AS late_component,
    coalesce(true_events, 0) - coalesce(missing_events, 0) - coalesce(pending_events, 0)
        - coalesce(api.events, 0) AS residual_component,
    coalesce(api.events, 0) - coalesce(true_events, 0) AS tz_shift
FROM k
FULL JOIN (SELECT company_id, CAST(to_timestamp(d * 86400) AS DATE) AS date, * EXCLUDE (company_id, d)
           FROM by_rows) br USING (company_id, date)
FULL JOIN api USING (company_id, date)
FULL JOIN dash USING (company_id, date)
ORDER BY company_id, date
)
) TO $p (FORMAT parquet)
