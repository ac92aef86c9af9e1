set terminal pngcairo noenhanced size 1100,620 font 'sans,11'
set output 'bench/results/netflix-25m_float32_time.png'
set title 'mfgrad: median time per evaluation, netflix-25m, float32, 2 threads (naive: 1), lower is better'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set ylabel 'milliseconds (log scale)'
set grid ytics
set key top left
set xtics rotate by -30
set datafile missing 'NaN'
plot 'bench/results/netflix-25m_float32_time.dat' using 2:xtic(1) title columnhead, '' using 3 title columnhead, '' using 4 title columnhead, '' using 5 title columnhead

reset
set terminal pngcairo noenhanced size 2080,520 font 'sans,11'
set output 'bench/results/netflix-25m_float32_gflops.png'
set multiplot layout 1,4 title 'mfgrad: GFLOP/s against threads, netflix-25m, float32 (6k flops per entry; dashed: measured FMA peak)'
set xlabel 'threads'
set ylabel 'GFLOP/s'
set grid
set key top left font ',9'
set logscale y
set xtics (1, 2)
set xrange [0.5:2.5]
set title 'k = 16'
plot 'bench/results/netflix-25m_float32_gflops.dat' index 0 using 1:2 with linespoints lw 2 dt 1 title 'plan', 'bench/results/netflix-25m_float32_gflops.dat' index 1 using 1:2 with linespoints lw 2 dt 1 title 'plan_estimate', 'bench/results/netflix-25m_float32_gflops.dat' index 2 using 1:2 with linespoints lw 2 dt 1 title 'tiled_simd', 'bench/results/netflix-25m_float32_gflops.dat' index 3 using 1:2 with linespoints lw 2 dt 1 title 'fused_simd', 'bench/results/netflix-25m_float32_gflops.dat' index 4 using 1:2 with linespoints lw 2 dt 1 title 'eigen', 'bench/results/netflix-25m_float32_gflops.dat' index 5 using 1:2 with linespoints lw 2 dt 1 title 'plain_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 6 using 1:2 with linespoints lw 2 dt 1 title 'csr_rows_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 7 using 1:2 with linespoints lw 2 dt 1 title 'csc_cols_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 8 using 1:2 with linespoints lw 2 dt 2 title 'tbb', 'bench/results/netflix-25m_float32_gflops.dat' index 9 using 1:2 with linespoints lw 2 dt 2 title 'graphblas', 'bench/results/netflix-25m_float32_gflops.dat' index 10 using 1:2 with linespoints lw 2 dt 2 title 'naive', 'bench/results/netflix-25m_float32_gflops.dat' index 44 using 1:2 with lines dt 2 lc rgb 'black' title 'peak'
set title 'k = 32'
plot 'bench/results/netflix-25m_float32_gflops.dat' index 11 using 1:2 with linespoints lw 2 dt 1 title 'plan', 'bench/results/netflix-25m_float32_gflops.dat' index 12 using 1:2 with linespoints lw 2 dt 1 title 'plan_estimate', 'bench/results/netflix-25m_float32_gflops.dat' index 13 using 1:2 with linespoints lw 2 dt 1 title 'tiled_simd', 'bench/results/netflix-25m_float32_gflops.dat' index 14 using 1:2 with linespoints lw 2 dt 1 title 'fused_simd', 'bench/results/netflix-25m_float32_gflops.dat' index 15 using 1:2 with linespoints lw 2 dt 1 title 'eigen', 'bench/results/netflix-25m_float32_gflops.dat' index 16 using 1:2 with linespoints lw 2 dt 1 title 'plain_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 17 using 1:2 with linespoints lw 2 dt 1 title 'csr_rows_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 18 using 1:2 with linespoints lw 2 dt 1 title 'csc_cols_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 19 using 1:2 with linespoints lw 2 dt 2 title 'tbb', 'bench/results/netflix-25m_float32_gflops.dat' index 20 using 1:2 with linespoints lw 2 dt 2 title 'graphblas', 'bench/results/netflix-25m_float32_gflops.dat' index 21 using 1:2 with linespoints lw 2 dt 2 title 'naive', 'bench/results/netflix-25m_float32_gflops.dat' index 44 using 1:2 with lines dt 2 lc rgb 'black' title 'peak'
set title 'k = 64'
plot 'bench/results/netflix-25m_float32_gflops.dat' index 22 using 1:2 with linespoints lw 2 dt 1 title 'plan', 'bench/results/netflix-25m_float32_gflops.dat' index 23 using 1:2 with linespoints lw 2 dt 1 title 'plan_estimate', 'bench/results/netflix-25m_float32_gflops.dat' index 24 using 1:2 with linespoints lw 2 dt 1 title 'tiled_simd', 'bench/results/netflix-25m_float32_gflops.dat' index 25 using 1:2 with linespoints lw 2 dt 1 title 'fused_simd', 'bench/results/netflix-25m_float32_gflops.dat' index 26 using 1:2 with linespoints lw 2 dt 1 title 'eigen', 'bench/results/netflix-25m_float32_gflops.dat' index 27 using 1:2 with linespoints lw 2 dt 1 title 'plain_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 28 using 1:2 with linespoints lw 2 dt 1 title 'csr_rows_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 29 using 1:2 with linespoints lw 2 dt 1 title 'csc_cols_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 30 using 1:2 with linespoints lw 2 dt 2 title 'tbb', 'bench/results/netflix-25m_float32_gflops.dat' index 31 using 1:2 with linespoints lw 2 dt 2 title 'graphblas', 'bench/results/netflix-25m_float32_gflops.dat' index 32 using 1:2 with linespoints lw 2 dt 2 title 'naive', 'bench/results/netflix-25m_float32_gflops.dat' index 44 using 1:2 with lines dt 2 lc rgb 'black' title 'peak'
set title 'k = 128'
plot 'bench/results/netflix-25m_float32_gflops.dat' index 33 using 1:2 with linespoints lw 2 dt 1 title 'plan', 'bench/results/netflix-25m_float32_gflops.dat' index 34 using 1:2 with linespoints lw 2 dt 1 title 'plan_estimate', 'bench/results/netflix-25m_float32_gflops.dat' index 35 using 1:2 with linespoints lw 2 dt 1 title 'tiled_simd', 'bench/results/netflix-25m_float32_gflops.dat' index 36 using 1:2 with linespoints lw 2 dt 1 title 'fused_simd', 'bench/results/netflix-25m_float32_gflops.dat' index 37 using 1:2 with linespoints lw 2 dt 1 title 'eigen', 'bench/results/netflix-25m_float32_gflops.dat' index 38 using 1:2 with linespoints lw 2 dt 1 title 'plain_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 39 using 1:2 with linespoints lw 2 dt 1 title 'csr_rows_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 40 using 1:2 with linespoints lw 2 dt 1 title 'csc_cols_omp', 'bench/results/netflix-25m_float32_gflops.dat' index 41 using 1:2 with linespoints lw 2 dt 2 title 'tbb', 'bench/results/netflix-25m_float32_gflops.dat' index 42 using 1:2 with linespoints lw 2 dt 2 title 'graphblas', 'bench/results/netflix-25m_float32_gflops.dat' index 43 using 1:2 with linespoints lw 2 dt 2 title 'naive', 'bench/results/netflix-25m_float32_gflops.dat' index 44 using 1:2 with lines dt 2 lc rgb 'black' title 'peak'
unset multiplot
