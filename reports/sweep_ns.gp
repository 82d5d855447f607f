# Time per query token vs context length t, one line per row (log-log): median of the reps
# (solid) and minimum (thin dashed); the maximum is in the .dat file (column 4), not drawn:
# on a shared machine it shows other processes, not the code.
# Variables (gnuplot -e): datafile, outbase, title_text, labels, tstar, tstar_analytic (the
# traffic crossover, drawn for reference; <0 = none), tstar_time (the crossover of the median
# times, from the run's crossover table; <0 = none).
# datafile: one block per series; columns 1 t, 2 ns median, 3 ns min, 4 ns max
if (!exists("datafile")) datafile = "sweep_ns.dat"
if (!exists("outbase")) outbase = "sweep_ns"
if (!exists("title_text")) title_text = "time per token"
if (!exists("labels")) labels = "row"
if (!exists("tstar")) tstar = -1
if (!exists("tstar_analytic")) tstar_analytic = -1
if (!exists("tstar_cfg")) tstar_cfg = ""
# t where the fast-weight row's median time first beats the KV row's (<0 = never / unknown)
if (!exists("tstar_time")) tstar_time = -1
if (exists("rowsgp")) { load rowsgp } else { rowrgb(n) = 0x555555; rowpt(n) = 7; rowlw(n) = 1.5 }

set encoding utf8
set title title_text . " | wall time per query token (median; dashed: min)" noenhanced
set xlabel "context length t (tokens)"
set ylabel "time per token (µs)"
set logscale x 2
set logscale y 10
set format x "%.0f"
set format y "%g"
set ytics add (2, 5, 20, 50, 200, 500, 2000, 5000, 20000, 50000)
set grid
# distinct colours per row (colour-blind safe, Tol's "bright" set)
set linetype cycle 6
set key top left noenhanced
if (tstar > 0) {
    set arrow 1 from tstar, graph 0 to tstar, graph 1 nohead dashtype 2 lc rgb "gray30"
    set label 1 sprintf("traffic t* = %.1f %s", tstar, tstar_cfg) at tstar, graph 0.55 offset 1,0 noenhanced
}
if (tstar_time > 0) {
    set arrow 2 from tstar_time, graph 0 to tstar_time, graph 1 nohead dashtype 3 lc rgb "gray10"
    set label 2 sprintf("time t* = %.1f", tstar_time) at tstar_time, graph 0.45 offset 1,0 noenhanced
}

do for [fmt in "png svg"] {
    if (fmt eq "png") {
        if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
            set terminal pngcairo size 900,600 noenhanced
        } else {
            set terminal png size 900,600
        }
    } else {
        set terminal svg size 900,600 dynamic noenhanced
    }
    set output outbase . "." . fmt
    plot for [i = 1:words(labels)] datafile index (i - 1) using 1:($2 / 1000) with linespoints \
             lc rgb rowrgb(word(labels, i)) lw rowlw(word(labels, i)) pt rowpt(word(labels, i)) ps 0.5 \
             title word(labels, i) . " median", \
         for [i = 1:words(labels)] datafile index (i - 1) using 1:($3 / 1000) with lines \
             lc rgb rowrgb(word(labels, i)) dt 2 lw 0.8 notitle
    unset output
}
