# gnuplot -e "data='startup.dat'; out='startup.png'" startup.gp
# Median container start-up per contender (plain set), back to back and
# after 0.2 s idle, as written by helper.py report.
set terminal pngcairo size 900,480 font "sans,10"
set output out
set title "Container start-up: busybox /bin/true, pid+mount+uts+ipc namespaces, /proc"
set ylabel "median start-up (ms)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set xtics scale 0
set key top left
set offsets 0, 0, graph 0.08, 0
plot data using 2:xtic(1) title "back to back" lc rgb "#4477aa", \
     ''   using 3 title "after 0.2 s idle" lc rgb "#ee7733", \
     ''   using ($0 - 0.2):2:(sprintf("%.1f", $2)) with labels offset 0,0.7 font ",8" notitle, \
     ''   using ($0 + 0.2):3:(sprintf("%.1f", $3)) with labels offset 0,0.7 font ",8" notitle
