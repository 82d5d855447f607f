// report (rep_) — figures from a results file (schema v1, reports/SCHEMA.md). Each figure's
// data is exported as a whitespace .dat file next to it, with a replot.sh that redraws it, so
// a figure can always be regenerated or drawn with another tool.
#ifndef NEUROICL_REPORT_H
#define NEUROICL_REPORT_H

// Draws the figures of run `run_id` (NULL = the latest run in the file) into `out_dir`
// (created if missing): accuracy.{dat,png,svg} from table "summary" and
// traffic.{dat,png,svg} from table "tokens" (each only when its table exists; at least one
// must). gnuplot scripts are looked up in $NEUROICL_REPORTS_DIR, ./reports, then
// <executable dir>/../reports. gnuplot missing -> ERR_IO with an install hint (the .dat files
// are written first, so they exist even then).
int rep_figures(const char *results_path, const char *run_id, const char *out_dir);

// Figure names rep_figures draws, for callers that list outputs.
#define REP_FIG_ACCURACY "accuracy"
#define REP_FIG_TRAFFIC "traffic"

#endif
