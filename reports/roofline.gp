# Roofline: arithmetic intensity (closed-form flops / counted bytes per token) against attained
# GFLOP/s, one point per (row, t), with the ceilings measured in the same run: memory
# bandwidth (STREAM triad, 1 thread: arrays 4x LLC, and arrays resident in L2) and compute
# (register FMA kernel, 1 thread). Every decode step is matrix-vector work: about 0.5 flop per
# counted byte for every row, so the rows differ in height (attained rate), not in intensity.
# Variables (gnuplot -e): datafile, outbase, title_text, labels, triad (GB/s, DRAM),
# triad_cache (GB/s, L2-resident; <0 = none), peak (GFLOP/s).
# datafile: one block per series; columns 1 flop/byte, 2 GFLOP/s, 3 t, 4 GB/s
if (!exists("datafile")) datafile = "roofline.dat"
if (!exists("outbase")) outbase = "roofline"
if (!exists("title_text")) title_text = "roofline"
if (!exists("labels")) labels = "row"
if (!exists("triad")) triad = -1
if (!exists("peak")) peak = -1
if (!exists("triad_cache")) triad_cache = -1
# what the triad ceiling is: DRAM only when its arrays were >= 4x the LLC
if (!exists("triad_label")) triad_label = "DRAM triad"
if (exists("rowsgp")) { load rowsgp } else { rowrgb(n) = 0x555555; rowpt(n) = 7; rowlw(n) = 1.5 }

set title title_text . " | roofline, 1 thread" noenhanced
set xlabel "arithmetic intensity (flop/byte, counted)"
set ylabel "attained performance (GFLOP/s)"
set logscale xy 10
set xrange [0.05:100]
set yrange [0.1:*]
set grid
# distinct colours per row (colour-blind safe, Tol's "bright" set)
set linetype cycle 6
set key bottom right noenhanced
set samples 400
roof(x) = (triad > 0 && peak > 0) ? (x * triad < peak ? x * triad : peak) : 1/0
roofc(x) = (triad_cache > 0 && peak > 0) ? (x * triad_cache < peak ? x * triad_cache : peak) : 1/0

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
    plot roof(x) with lines lw 2 lc rgb "gray30" \
             title sprintf("ceiling: %s %.1f GB/s, FMA %.0f GFLOP/s", triad_label, triad, peak), \
         roofc(x) with lines lw 2 dt 2 lc rgb "gray50" \
             title sprintf("ceiling: L2-resident triad %.1f GB/s", triad_cache), \
         for [i = 1:words(labels)] datafile index (i - 1) using 1:2 with points \
             lc rgb rowrgb(word(labels, i)) pt rowpt(word(labels, i)) ps 0.9 title word(labels, i)
    unset output
}
