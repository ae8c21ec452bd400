-- sample generator: the ingestion days (epoch days) of the generated rows r.
SELECT DISTINCT ingested // 86400 AS d FROM r ORDER BY d
