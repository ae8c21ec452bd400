-- The aggregate's strategy and watermark (no row before its first build).
SELECT strategy, watermark FROM agg.evtools_state
