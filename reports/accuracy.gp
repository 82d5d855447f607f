# Accuracy per implementation with 95% confidence intervals.
# Variables (gnuplot -e): datafile, outbase, title_text, chance (percent, <0 = none).
# datafile columns: 1 index, 2 impl, 3 accuracy %, 4 CI low %, 5 CI high %, 6 n_queries
if (!exists("datafile")) datafile = "accuracy.dat"
if (!exists("outbase")) outbase = "accuracy"
if (!exists("title_text")) title_text = "accuracy"
if (!exists("chance")) chance = -1
if (exists("rowsgp")) { load rowsgp } else { rowrgb(n) = 0x555555; rowpt(n) = 7; rowlw(n) = 1.5 }

set title title_text noenhanced
set ylabel "accuracy (%)"
set xlabel "implementation"
set yrange [0:105]
set grid ytics
set key outside bottom center horizontal noenhanced
set style fill solid 0.35 border
set boxwidth 0.6
set xtics noenhanced
stats datafile using 1 nooutput
set xrange [-0.7:STATS_max + 0.7]

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
    # The chance level (100/n_way) is drawn as a dashed line when n_way is known.
    plot datafile using 1:3:(rowrgb(strcol(2))):xtic(2) with boxes lc rgb variable title "accuracy", \
         ''       using 1:3:4:5 with yerrorbars pt 7 ps 0.8 lw 2 lc rgb "black" title "95% CI", \
         (chance >= 0 ? chance : 1/0) with lines dashtype 2 lc rgb "gray40" \
             title (chance >= 0 ? sprintf("chance (%.0f%%)", chance) : "")
    unset output
}
