-- The aggregate's state after a run: its strategy and watermark.
-- reads: agg.evtools_state
-- makes: agg.evtools_state
DELETE FROM agg.evtools_state;
INSERT INTO agg.evtools_state VALUES ($strategy, $watermark, $now);
