# Counted bytes per query token vs context length t, one line per row (log-log), with the
# crossover t* (KV traffic overtakes the fast-weight state's) marked.
# Variables (gnuplot -e): datafile, outbase, title_text, labels (space-separated, in block
# order), tstar (measured from counted bytes, <0 = none), tstar_analytic (<0 = none).
# datafile: one block per series; columns 1 t, 2 bytes, 3 closed-form bytes, 4 KV bytes, 5 FW bytes
if (!exists("datafile")) datafile = "sweep_bytes.dat"
if (!exists("outbase")) outbase = "sweep_bytes"
if (!exists("title_text")) title_text = "memory traffic per token"
if (!exists("labels")) labels = "row"
if (!exists("tstar")) tstar = -1
if (!exists("tstar_analytic")) tstar_analytic = -1
if (!exists("tstar_cfg")) tstar_cfg = ""
if (exists("rowsgp")) { load rowsgp } else { rowrgb(n) = 0x555555; rowpt(n) = 7; rowlw(n) = 1.5 }

set title title_text . " | counted bytes per query token (dashed: state only)" noenhanced
set xlabel "context length t (tokens)"
set ylabel "counted memory traffic per token (bytes)"
set logscale x 2
set logscale y 10
set format y "%.0s %cB"
set format x "%.0f"
set grid
# distinct colours per row (colour-blind safe, Tol's "bright" set)
set linetype cycle 6
if (words(labels) > 4) {
    set key outside right top noenhanced font ",8"
} else {
    set key top left noenhanced font ",9"
}
if (tstar > 0) {
    set arrow 1 from tstar, graph 0 to tstar, graph 1 nohead dashtype 2 lc rgb "gray30" lw 1.5
    set label 1 sprintf("t* = %.1f (analytic %.1f) %s", tstar, tstar_analytic, tstar_cfg) at tstar, graph 0.55 offset 1,0 noenhanced
}

do for [fmt in "png svg"] {
    if (fmt eq "png") {
        if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
            set terminal pngcairo size (words(labels) > 4 ? 1100 : 900),600 noenhanced
        } else {
            set terminal png size 900,600
        }
    } else {
        set terminal svg size (words(labels) > 4 ? 1100 : 900),600 dynamic noenhanced
    }
    set output outbase . "." . fmt
    # solid: everything the token touches (weights + state); dashed: the state alone
    # (KV cache or fast weights), where the crossover is plain to see.
    plot for [i = 1:words(labels)] datafile index (i - 1) using 1:2 with linespoints \
             lc rgb rowrgb(word(labels, i)) lw rowlw(word(labels, i)) dt 1 pt rowpt(word(labels, i)) ps 0.6 \
             title word(labels, i), \
         for [i = 1:words(labels)] datafile index (i - 1) using 1:(($4 + $5) > 0 ? $4 + $5 : 1/0) \
             with lines lc rgb rowrgb(word(labels, i)) dt 2 notitle, \
         NaN with lines lc rgb "gray30" dt 2 title "state only (KV cache / fast weights)"
    unset output
}
