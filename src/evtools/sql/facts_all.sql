-- The rows every analysis reads: all of fact_events.
CREATE OR REPLACE TEMP VIEW _facts AS SELECT * FROM fact_events
