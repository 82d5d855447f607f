# Counted memory traffic per generated token vs. position t, one line per implementation.
# Variables (gnuplot -e): datafile, outbase, title_text, impls (space-separated, in the order
# of the datafile's blocks).
# datafile: one block per impl (separated by two blank lines), columns:
#   1 t, 2 mean bytes (read+written), 3 mean bytes read, 4 mean bytes written, 5 rows averaged
if (!exists("datafile")) datafile = "traffic.dat"
if (!exists("outbase")) outbase = "traffic"
if (!exists("title_text")) title_text = "memory traffic per token"
if (!exists("impls")) impls = "impl"
if (!exists("notcounted")) notcounted = ""
if (exists("rowsgp")) { load rowsgp } else { rowrgb(n) = 0x555555; rowpt(n) = 7; rowlw(n) = 1.5 }

set title title_text noenhanced
set xlabel "position t (support tokens in the context); queries not shown (they also read the readout)"
if (strlen(notcounted) > 0) set label 1 "traffic not counted: ".notcounted at graph 0.02, graph 0.05 noenhanced
set ylabel "bytes per token"
set grid
set key outside right top noenhanced
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set xtics 1 nomirror
set mxtics 1

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
    plot for [i = 1:words(impls)] datafile index (i - 1) using 1:2 with linespoints \
         lc rgb rowrgb(word(impls, i)) lw rowlw(word(impls, i)) pt rowpt(word(impls, i)) ps 0.8 \
         title word(impls, i)
    unset output
}
