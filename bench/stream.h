// stream (stream_) — the bandwidth probe: STREAM-style copy, scale, add, triad on three
// double arrays (McCalpin's STREAM, https://www.cs.virginia.edu/stream/), timed best of N.
//
// What is measured: wall time of one pass of each kernel over n elements; bandwidth =
// counted bytes / best time. How bytes are counted (8-byte doubles, per element):
//   copy   c = a         read 1 + write 1 = 16 B     (+8 B write-allocate = 24 B)
//   scale  b = s*c       read 1 + write 1 = 16 B     (+8 B write-allocate = 24 B)
//   add    c = a + b     read 2 + write 1 = 24 B     (+8 B write-allocate = 32 B)
//   triad  a = b + s*c   read 2 + write 1 = 24 B     (+8 B write-allocate = 32 B)
// The first column is the STREAM convention (what the program reads and writes). Ordinary
// stores make the cache read each written line before it is overwritten (write-allocate),
// so the memory bus moves the second column; both are recorded, the convention is reported.
// Arrays default to 4x the last-level cache reported by the OS so no kernel runs from cache.
#ifndef NEUROICL_STREAM_H
#define NEUROICL_STREAM_H
#include <stddef.h>
#include "bench/results.h"

enum { STREAM_COPY, STREAM_SCALE, STREAM_ADD, STREAM_TRIAD, STREAM_NK };

typedef struct {
    size_t array_bytes;  // per array; 0 = 4 x LLC, capped at 1/4 of physical memory
    int ntimes;          // passes per kernel; the first is a warm-up and not kept (>= 2)
    int threads;         // OpenMP threads; 1 = like the single-threaded decode loop
} stream_options;

typedef struct {
    size_t n, array_bytes, llc_bytes;  // elements per array, bytes per array, LLC reported
    int ntimes, threads;
    double llc_multiple;               // array_bytes / llc_bytes (>= 4 for a DRAM measurement)
    double best_s[STREAM_NK], avg_s[STREAM_NK], max_s[STREAM_NK];  // over passes 2..ntimes
    double bytes[STREAM_NK];           // counted per pass, STREAM convention
    double bytes_wa[STREAM_NK];        // counted per pass including write-allocate reads
    double gbs[STREAM_NK];             // bytes / best_s / 1e9
    double gbs_wa[STREAM_NK];          // bytes_wa / best_s / 1e9
} stream_result;

extern const char *const stream_kernel_names[STREAM_NK];

// Size in bytes of the largest cache the OS reports for cpu0 (sysfs); 0 when unknown.
size_t stream_llc_bytes(void);
// Runs the four kernels; ERR_NOMEM when the arrays do not fit, ERR_ARG for absurd options.
int stream_run(const stream_options *o, stream_result *r);
// Appends one row per kernel to table "stream" of `run` (kernel, threads, n, array_bytes,
// llc_bytes, llc_multiple, bytes_counted, bytes_write_allocate, best_s, avg_s, max_s, gbs,
// gbs_write_allocate) and labels it with `label` (e.g. "dram", "kv-footprint").
int stream_add_table(const stream_result *r, const char *label, h5r_run *run);
// Human summary, one line per kernel.
void stream_print(const stream_result *r, const char *label);

// `neuroicl stream [options]`; argv[0] is "stream". Returns an error code (ERR_ARG for bad
// input); the message is in err_msg().
int stream_cmd(int argc, char **argv);

#endif
