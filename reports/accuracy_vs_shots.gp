# Accuracy vs number of shots (k) per row, with 95% confidence intervals.
# Variables (gnuplot -e): datafile, outbase, labels (block order), chance (percent, <0 = none).
# datafile: one block per row; columns 1 k_shot, 2 accuracy %, 3 CI low %, 4 CI high %, 5 n_queries
if (!exists("datafile")) datafile = "accuracy_vs_shots.dat"
if (!exists("outbase")) outbase = "accuracy_vs_shots"
if (!exists("labels")) labels = "row"
if (!exists("chance")) chance = -1
if (!exists("kvals")) kvals = ""
if (!exists("title_text")) title_text = "accuracy vs shots (95% CI)"
if (exists("rowsgp")) { load rowsgp } else { rowrgb(n) = 0x555555; rowpt(n) = 7; rowlw(n) = 1.5 }

set title title_text noenhanced
set xlabel "shots per class k"
set xrange [0.8:*]
set ylabel "accuracy (%)"
set yrange [0:105]
set logscale x 2
set format x "%.0f"
if (strlen(kvals) > 0) { set xtics (); do for [kk in kvals] { set xtics add (kk int(kk)) } }
set grid
# distinct colours per row (colour-blind safe, Tol's "bright" set)
set linetype cycle 6
set key bottom right noenhanced

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
    # Rows with identical answers (kv-linear and fw-float) coincide: earlier rows are drawn
    # wider so each stays visible beneath the later ones.
    plot for [i = 1:words(labels)] datafile index (i - 1) using 1:2:3:4 with yerrorlines \
             lc rgb rowrgb(word(labels, i)) lw rowlw(word(labels, i)) pt rowpt(word(labels, i)) ps 0.9 \
             title word(labels, i), \
         (chance >= 0 ? chance : 1/0) with lines dashtype 2 lc rgb "gray40" \
             title (chance >= 0 ? sprintf("chance (%.0f%%)", chance) : "")
    unset output
}
