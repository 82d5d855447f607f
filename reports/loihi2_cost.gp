# Modelled Loihi 2 cost per token beside the CPU rows' measured time per token.
# Variables (gnuplot -e): datafile, outbase, title_text.
# datafile block 0: index label microseconds kind(measured|modelled)
#          block 1: index kind(support|query|all) microjoules timesteps
if (!exists("datafile")) datafile = "loihi2_cost.dat"
if (!exists("outbase")) outbase = "loihi2_cost"
if (!exists("title_text")) title_text = "Loihi 2 cost per token"
if (exists("rowsgp")) { load rowsgp } else { rowrgb(n) = 0x555555; rowpt(n) = 7; rowlw(n) = 1.5 }

set style fill solid 0.5 border
set boxwidth 0.6
set grid ytics
do for [fmt in "png svg"] {
    if (fmt eq "png") {
        if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
            set terminal pngcairo size 1200,560 noenhanced
        } else {
            set terminal png size 1200,560
        }
    } else {
        set terminal svg size 1200,560 dynamic noenhanced
    }
    set output outbase . "." . fmt
    set multiplot layout 1,2 title title_text noenhanced
    set title "time per token (measured median; hatched: modelled Loihi)" noenhanced
    set ylabel "time per token (µs, log scale)"
    set logscale y
    set yrange [1:*]
    set xtics rotate by -30 noenhanced
    set xrange [-0.6:*]
    set bmargin 6
    plot datafile index 0 using 1:(strcol(4) eq "measured" ? $3 : 1/0):(rowrgb(strcol(2))):xtic(2) with boxes lc rgb variable notitle, \
         '' index 0 using 1:(strcol(4) eq "modelled" ? $3 : 1/0):xtic(2) with boxes lc rgb "#aa3377" fs pattern 4 border notitle
    unset logscale y
    set title "modelled Loihi energy per token (Loihi 1 per-op energies)" noenhanced
    set ylabel "energy per token (µJ, modelled)"
    set yrange [0:*]
    set offsets 0, 0, graph 0.12, 0
    plot datafile index 1 using 1:3:xtic(2) with boxes lc rgb "#aa3377" notitle, \
         '' index 1 using 1:3:(sprintf("%.0f steps", $4)) with labels offset 0,1 notitle
    unset multiplot
    unset output
}
