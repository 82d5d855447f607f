// counters (ctr_) — hardware and software event counters through PAPI's low-level API.
// Each requested event is probed and added one at a time; an event that cannot be counted
// here is kept in the list as unavailable with the reason (never reported as 0).
#ifndef NEUROICL_COUNTERS_H
#define NEUROICL_COUNTERS_H
#include <stddef.h>
#include "bench/results.h"

#define CTR_MAX_EVENTS 32

typedef struct {
    char name[96];
    int available;       // 1 = counted, 0 = not
    char reason[192];    // why not (empty when available)
} ctr_event;

typedef struct {
    int n_events;
    ctr_event events[CTR_MAX_EVENTS];  // requested, in order
    int n_avail;
    int avail_idx[CTR_MAX_EVENTS];     // (n_avail) index into events[] of each counted event
    int papi_ok;                       // PAPI library initialised
    char papi_version[32];
    int event_set;                     // PAPI event set handle (internal)
    int running;
} ctr_set;

// Default list: PAPI_TOT_INS, PAPI_TOT_CYC, PAPI_L1_DCM, PAPI_L2_DCM, PAPI_L3_TCM,
// perf::TASK-CLOCK, perf::PAGE-FAULTS. `list` is comma-separated or NULL for the default.
// Never fails because an event is unavailable; fails only on a malformed list (ERR_ARG).
int ctr_open(ctr_set *c, const char *list);
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

// Adds the event list to `run` as table "counters" (event, available, reason), so a
// results file says which counters were measured and why the others were not.
int ctr_add_table(const ctr_set *c, h5r_run *run);

#endif
