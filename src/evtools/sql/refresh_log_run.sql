-- One row per refresh run.
-- reads: agg.evtools_runs
-- makes: agg.evtools_runs
INSERT INTO agg.evtools_runs VALUES ($id, $start, $end, $strategy, $mode, $wb, $wa, $until, $rows, $keys, $dates,
                                     $mr, $me, $status, $error)
