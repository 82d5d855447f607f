// history (hist_) — trend figures over many results files, one per commit (named by
// `git describe`, e.g. results/history/v0.1.0-12-gabc1234.h5): for every file the latest run
// with a summary table and the newest file's configuration gives one point per row; one
// figure per metric (bytes read/written per token, accuracy, median ns per token) drawn by
// reports/history.gp as PNG+SVG, with the numbers in history_<metric>.dat beside it.
#ifndef NEUROICL_HISTORY_H
#define NEUROICL_HISTORY_H

// Writes the figures for the *.h5 files of `dir` (ordered by the time of their run) into
// out_dir. Returns ERR_* with err_msg() set (no results files, gnuplot missing, ...).
// n_points/n_skipped (may be NULL) tell how many files gave points and how many not.
int hist_figures(const char *dir, const char *out_dir, int *n_points, int *n_skipped);

// `neuroicl history DIR [--out-dir DIR]` (argv[0] = "history"); returns an ERR_* code.
int hist_command(int argc, char **argv);

#endif
