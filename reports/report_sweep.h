// report_sweep (rep_) — figures of a `neuroicl sweep` run and the accuracy-vs-shots figure.
// Like reports/report.c, the numbers are reduced here in C and written to .dat files next to
// the figures; gnuplot (one script per figure in reports/) only draws them.
#ifndef NEUROICL_REPORT_SWEEP_H
#define NEUROICL_REPORT_SWEEP_H

// From table "sweep" of `run_id`: sweep_bytes (bytes/token vs t, t* marked), sweep_ns
// (ns/token vs t), roofline (arithmetic intensity vs attained GFLOP/s with the run's measured
// triad bandwidth and FMA ceilings). Each as <name>.dat, .png, .svg in out_dir.
int rep_sweep_figures(const char *results_path, const char *run_id, const char *out_dir);

// accuracy_vs_shots from every eval run of the file (table summary; attribute k_shot; runs
// with the same n_way as the latest eval run). *drawn = 0 (and nothing written) when the file
// has fewer than 2 distinct shots.
int rep_shots_figure(const char *results_path, const char *out_dir, int *drawn);

// Runs reports/<name>.gp with gnuplot -e `vars`, expecting <base>.png and <base>.svg, and adds
// it to out_dir/replot.sh with `replot_vars` (paths relative to out_dir). In reports/report.c.
int rep_gnuplot(const char *name, const char *vars, const char *replot_vars, const char *out_dir, const char *base);

#define REP_FIG_SWEEP_BYTES "sweep_bytes"
#define REP_FIG_SWEEP_NS "sweep_ns"
#define REP_FIG_ROOFLINE "roofline"
#define REP_FIG_SHOTS "accuracy_vs_shots"

// The modelled Loihi 2 cost figure (loihi2_cost.{dat,png,svg}) of an eval run that ran
// loihi2-emu; nothing is drawn (and 0 returned, *drawn = 0) when the run has no loihi2 table.
int rep_loihi2_figure(const char *path, const char *run, const char *dir, const char *title, int *drawn);

#endif
