// counters (ctr_) — hardware and software event counters through PAPI's low-level API.
// Each requested event is probed and added one at a time; an event that cannot be counted
// here is kept in the list as unavailable with the reason (never reported as 0).
//
// Fallbacks: when perf::TASK-CLOCK or perf::PAGE-FAULTS cannot be counted through PAPI (a VM
// without PMU disables PAPI's perf_event component, and with it even the software events),
// an operating-system substitute is appended under its own name, never under the PAPI name:
//   sys::thread-cpu-ns   clock_gettime(CLOCK_THREAD_CPUTIME_ID), ns      (for perf::TASK-CLOCK)
//   sys::page-faults     getrusage(RUSAGE_THREAD) ru_minflt + ru_majflt (for perf::PAGE-FAULTS)
//   sys::ctx-switches    getrusage(RUSAGE_THREAD) ru_nvcsw + ru_nivcsw  (noise indicator)
// Each event carries its source, so a results file says where every number came from.
// sys:: events may also be listed in --events directly.
#ifndef NEUROICL_COUNTERS_H
#define NEUROICL_COUNTERS_H
#include <stddef.h>
#include "bench/results.h"

#define CTR_MAX_EVENTS 32

typedef struct {
    char name[96];
    int available;       // 1 = counted, 0 = not
    char reason[192];    // why not (empty when available)
    char source[64];     // "PAPI" or the OS call a sys:: fallback reads (empty when unavailable)
    char substitutes[96];  // for a fallback: the PAPI event it stands in for (else empty)
    int kind;            // internal: CTR_KIND_*
} ctr_event;

enum { CTR_KIND_PAPI = 0, CTR_KIND_THREAD_CPU_NS, CTR_KIND_PAGE_FAULTS, CTR_KIND_CTX_SWITCHES };

typedef struct {
    int n_events;
    ctr_event events[CTR_MAX_EVENTS];  // requested, in order
    int n_avail;
    int avail_idx[CTR_MAX_EVENTS];     // (n_avail) index into events[] of each counted event
    int n_papi;                        // counted events that come from PAPI
    int papi_ok;                       // PAPI library initialised
    char papi_version[32];
    int event_set;                     // PAPI event set handle (internal)
    int running;
} ctr_set;

// Default list: PAPI_TOT_INS, PAPI_TOT_CYC, PAPI_L1_DCM, PAPI_L2_DCM, PAPI_L3_TCM,
// perf::TASK-CLOCK, perf::PAGE-FAULTS. `list` is comma-separated or NULL for the default.
// Never fails because an event is unavailable; fails only on a malformed list (ERR_ARG).
// Fallbacks (above) are appended for unavailable perf::TASK-CLOCK / perf::PAGE-FAULTS.
int ctr_open(ctr_set *c, const char *list);

// Test hook: while set, probing `name` behaves as if PAPI_add_event returned `papi_rc`
// (e.g. PAPI_EPERM), so the recorded reason can be checked on any machine. NULL clears it.
void ctr_test_force_failure(const char *name, int papi_rc);
int ctr_start(ctr_set *c);
// Reads the running counters without stopping them: values (n_avail), in avail_idx order.
int ctr_read(ctr_set *c, long long *values);
int ctr_stop(ctr_set *c);
void ctr_close(ctr_set *c);
// Forces an event to be unavailable with `reason` (tests; --events with a name that the
// user wants excluded). Must be called before ctr_start.
void ctr_mark_unavailable(ctr_set *c, const char *name, const char *reason);

// Human summary of the set for `neuroicl info`: one line per event, counted or why not.
// Always NUL-terminates `buf`; returns the length it wanted (like snprintf).
int ctr_describe(const ctr_set *c, char *buf, size_t n);

// Adds the event list to `run` as table "counters" (event, available, reason, source,
// substitutes), so a results file says which counters were measured, from where, and why the
// others were not; also run attributes counters_multiplexed = 0 (no multiplexing is used)
// and counters_granularity = "calling thread".
int ctr_add_table(const ctr_set *c, h5r_run *run);

#endif
