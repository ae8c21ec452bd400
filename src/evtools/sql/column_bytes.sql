-- Compressed bytes per column over a set of parquet files.
SELECT path_in_schema AS column_name, sum(total_compressed_size) AS bytes
FROM parquet_metadata($files)
GROUP BY path_in_schema
