// roofline (roof_) — see bench/roofline.h. The kernel: acc[j][l] = acc[j][l]*m + a for
// n_iter iterations; 16 chains x 16 lanes, written so the compiler vectorises the lane loop
// and keeps the chains in registers (with -march=native: AVX-512 FMAs where available).
#include "bench/roofline.h"
#include <time.h>

#define ROOF_CHAINS 16
#define ROOF_LANES 16

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static volatile float roof_sink;

// Returns flops done; acc stays bounded because m < 1 and a is small.
static double roof_kernel(long n_iter) {
    float acc[ROOF_CHAINS][ROOF_LANES];
    for (int j = 0; j < ROOF_CHAINS; j++)
        for (int l = 0; l < ROOF_LANES; l++) acc[j][l] = (float)(j + l) * 1e-3f;
    const float m = 0.999f, a = 1e-3f;
    for (long i = 0; i < n_iter; i++)
        for (int j = 0; j < ROOF_CHAINS; j++)
#pragma omp simd
            for (int l = 0; l < ROOF_LANES; l++) acc[j][l] = acc[j][l] * m + a;
    float s = 0;
    for (int j = 0; j < ROOF_CHAINS; j++)
        for (int l = 0; l < ROOF_LANES; l++) s += acc[j][l];
    roof_sink = s;
    return 2.0 * ROOF_CHAINS * ROOF_LANES * (double)n_iter;
}

double roof_peak_gflops(int threads, int ntimes) {
    if (threads < 1) threads = 1;
    if (ntimes < 1) ntimes = 1;
    const long n_iter = 2000000;
    double best = 0.0;
    for (int it = 0; it < ntimes; it++) {
        double flops = 0.0;
        double t0 = now_s();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops += roof_kernel(n_iter);
        double dt = now_s() - t0;
        if (flops / dt / 1e9 > best) best = flops / dt / 1e9;
    }
    return best;
}
