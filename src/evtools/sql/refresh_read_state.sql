-- The aggregate's strategy and watermark (no row before its first build).
-- reads: agg.evtools_state
SELECT strategy, watermark FROM agg.evtools_state
