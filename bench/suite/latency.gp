# Latency against offered load for bench/run: `gnuplot -e "dir='OUT'"`.
# Reads OUT/latency-<workload>-<contender>.dat (achieved requests/s, p50 ms,
# p99 ms) and writes OUT/latency.png.
set terminal pngcairo size 1400,500 font ",10"
set output dir."/latency.png"
set multiplot layout 1,3 title "OCSP latency against offered load (wrk, closed loop with per-connection pacing)"
set logscale y
set xlabel "achieved requests/s"
set ylabel "latency (ms)"
set grid
set key top left
do for [w in "ocsp_get ocsp_post ocsp_post_nonce"] {
  set title w noenhanced
  plot dir."/latency-".w."-certctl.dat" using 1:3 with linespoints lc 1 pt 7 title "certctl p99", \
       dir."/latency-".w."-certctl.dat" using 1:2 with linespoints lc 1 dt 2 pt 6 title "certctl p50", \
       dir."/latency-".w."-openssl.dat" using 1:3 with linespoints lc 2 pt 7 title "openssl ocsp p99", \
       dir."/latency-".w."-openssl.dat" using 1:2 with linespoints lc 2 dt 2 pt 6 title "openssl ocsp p50"
}
unset multiplot
