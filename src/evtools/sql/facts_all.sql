-- The rows every analysis reads: all of fact_events.
-- reads: fact_events
-- makes: _facts
CREATE OR REPLACE TEMP VIEW _facts AS SELECT * FROM fact_events
