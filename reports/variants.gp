# The variant table as a figure: accuracy (%) with 95% CI per row (colour) and task (group), and
# Lake's 20-way within-alphabet one-shot benchmark as 100 - error beside the published people
# and BPL rates. The .tsv holds fractions; they are drawn as percentages. Data: the .tsv that `neuroicl variants` writes next to the figure.
#   gnuplot -e "in='reports/figures/variants.tsv'; out='reports/figures/variants'" reports/variants.gp
if (!exists("in")) in = 'reports/figures/variants.tsv'
if (!exists("out")) out = 'reports/figures/variants'
if (!exists("title_text")) title_text = "variant table"
if (exists("rowsgp")) { load rowsgp } else { rowrgb(n) = 0x555555; rowpt(n) = 7; rowlw(n) = 1.5 }
set datafile separator "\t"
set style fill solid 0.7 border -1
set boxwidth 0.15
set yrange [0:108]
set title title_text noenhanced
set xrange [-0.5:4.6]
set ylabel "accuracy (%), evaluation alphabets, 95% CI"
set key outside bottom center horizontal font ",9"
set grid ytics
set xtics ("5-way 1-shot" 0, "5-way 5-shot" 1, "20-way 1-shot" 2, "20-way 5-shot" 3, "Lake 100 - error" 4)
set arrow 1 from 3.6, 95.5 to 4.45, 95.5 nohead dt 2 lc rgb "black"
set label 1 "people 95.5% (dashed)" at 3.62, 93.0 font ",8"
set arrow 2 from 3.6, 96.7 to 4.45, 96.7 nohead dt 3 lc rgb "gray30"
set label 2 "BPL 96.7% (dotted)" at 3.62, 99.0 font ",8"
names = "kv-softmax kv-linear fw-float fw-quant loihi2-emu"
off(r) = (r - 2) * 0.16
do for [fmt in "png svg"] {
    if (fmt eq "svg") { set terminal svg size 1000,480 dynamic } else { set terminal pngcairo size 1000,480 }
    set output out.".".fmt
    # boxerrorbars with 5 columns: x : y : ylow : yhigh : box width
    plot for [r=0:4] in every ::r::r using (0 + off(r)):(100*$2):(100*$3):(100*$4):(0.15) with boxerrorbars lc rgb rowrgb(word(names, r+1)) title word(names, r+1), \
         for [r=0:4] for [s=1:3] in every ::r::r using (s + off(r)):(100*column(2+3*s)):(100*column(3+3*s)):(100*column(4+3*s)):(0.15) with boxerrorbars lc rgb rowrgb(word(names, r+1)) notitle, \
         for [r=0:4] in every ::r::r using (4 + off(r)):(100*(1-$14)):(100*(1-$14-$15)):(100*(1-$14+$15)):(0.15) with boxerrorbars lc rgb rowrgb(word(names, r+1)) notitle
}
