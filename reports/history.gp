# One metric over commits: one line per implementation, x = results files in time order
# labelled by their name (git describe). Variables (gnuplot -e): datafile, outbase,
# title_text, ylabel_text, impls (space-separated, in the order of the datafile's blocks).
# datafile: one block per impl (separated by two blank lines), columns:
#   1 index of the file (0 = oldest), 2 value, 3 label (git describe)
if (!exists("datafile")) datafile = "history.dat"
if (!exists("outbase")) outbase = "history"
if (!exists("title_text")) title_text = "history"
if (!exists("ylabel_text")) ylabel_text = "value"
if (!exists("impls")) impls = "impl"
if (exists("rowsgp")) { load rowsgp } else { rowrgb(n) = 0x555555; rowpt(n) = 7; rowlw(n) = 1.5 }

set title title_text noenhanced
set xlabel "commit (git describe)"
set ylabel ylabel_text noenhanced
set grid
set key outside right top noenhanced
set xtics rotate by -45 noenhanced
set offsets 0.3, 0.3, 0, 0

do for [fmt in "png svg"] {
    if (fmt eq "png") {
        if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
            set terminal pngcairo size 1000,600 noenhanced
        } else {
            set terminal png size 1000,600
        }
    } else {
        set terminal svg size 1000,600 dynamic noenhanced
    }
    set output outbase . "." . fmt
    plot for [i = 1:words(impls)] datafile index (i - 1) using 1:2:xtic(3) with linespoints \
         lc rgb rowrgb(word(impls, i)) pt rowpt(word(impls, i)) ps 0.8 title word(impls, i)
    unset output
}
