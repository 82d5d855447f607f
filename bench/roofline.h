// roofline (roof_) — the measured compute ceiling for the roofline figure: single-precision
// multiply-adds on registers-only data (16 independent accumulator vectors of 16 floats, so
// neither latency nor memory limits it), timed best of N. GFLOP/s counts a multiply-add as 2.
#ifndef NEUROICL_ROOFLINE_H
#define NEUROICL_ROOFLINE_H

// Best-of-`ntimes` GFLOP/s of the FMA kernel on `threads` threads (>= 1).
double roof_peak_gflops(int threads, int ntimes);

#endif
