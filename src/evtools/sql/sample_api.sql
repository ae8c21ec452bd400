-- sample generator: what the API reports, the final value of every event (received or not) on its day,
-- bucketed by the company's local day for the zone companies (tzc), by the UTC day otherwise; then api_daily.csv.
CREATE TABLE api AS
WITH final AS (
    SELECT company_id,
           CASE WHEN corrected THEN corr_ts ELSE ts END AS fts,
           CASE WHEN corrected THEN corr_value ELSE value END AS v
    FROM ev
)
SELECT f.company_id,
       CAST(CASE WHEN z.zone IS NULL THEN to_timestamp(fts)
                 ELSE timezone(z.zone, to_timestamp(fts)) END AS DATE) AS date,
       SUM(v)::BIGINT AS events
FROM final f LEFT JOIN tzc z USING (company_id)
GROUP BY ALL;

COPY (SELECT company_id, date, events, to_timestamp($s) AS fetched_at FROM api ORDER BY ALL) TO $p (HEADER, DELIMITER ',');
