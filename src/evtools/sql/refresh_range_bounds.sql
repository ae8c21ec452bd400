-- Incremental step 2 on a lakehouse, for ids that are not numbers: one range, the smallest and the largest touched event_id.
-- reads: _touched
SELECT min(event_id) AS lo, max(event_id) AS hi FROM _touched
