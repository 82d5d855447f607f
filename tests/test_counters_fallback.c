// Tests for the counters' honest fallbacks (bench/counters.c): forced unavailability records
// the right reason on any machine, sys:: substitutes are named and sourced as what they are,
// and a results table never turns an unavailable counter into a value.
#include "bench/counters.h"
#include "bench/results.h"
#include "kernels/err.h"

#include <criterion/criterion.h>
#include <papi.h>
#include <string.h>

static int find(const ctr_set *c, const char *name) {
    for (int i = 0; i < c->n_events; i++)
        if (strcmp(c->events[i].name, name) == 0) return i;
    return -1;
}

static volatile double sink;
static void busy(long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += (double)i * 1e-9;
    sink = s;
}

// PAPI_EPERM forced on PAPI_TOT_CYC: the reason names perf_event_paranoid, whatever the PMU.
Test(counters_fallback, forced_permission_reason) {
    ctr_test_force_failure("PAPI_TOT_CYC", PAPI_EPERM);
    ctr_set c;
    cr_assert_eq(ctr_open(&c, "PAPI_TOT_CYC,perf::TASK-CLOCK"), ERR_OK);
    ctr_test_force_failure(NULL, 0);
    int i = find(&c, "PAPI_TOT_CYC");
    cr_assert_eq(c.events[i].available, 0);
    cr_assert(strstr(c.events[i].reason, "permission denied") &&
              strstr(c.events[i].reason, "perf_event_paranoid"), "%s", c.events[i].reason);
    for (int k = 0; k < c.n_avail; k++) cr_assert_neq(c.avail_idx[k], i, "not read");

    // The results table keeps the event with its reason and no source.
    h5r_run r;
    h5r_run_init(&r);
    cr_assert_eq(ctr_add_table(&c, &r), ERR_OK);
    h5r_table *t = r.tables[0];
    int ce = h5r_col_index(t, "event"), ca = h5r_col_index(t, "available"), cr = h5r_col_index(t, "reason");
    int cs = h5r_col_index(t, "source");
    cr_assert(ce >= 0 && ca >= 0 && cr >= 0 && cs >= 0);
    int seen = 0;
    for (size_t row = 0; row < t->n_rows; row++) {
        const char *ev = t->cols[ce].str + row * t->cols[ce].str_len;
        if (strcmp(ev, "PAPI_TOT_CYC")) continue;
        seen = 1;
        cr_assert_eq(t->cols[ca].i64[row], 0);
        cr_assert(strstr(t->cols[cr].str + row * t->cols[cr].str_len, "perf_event_paranoid"));
        cr_assert_str_eq(t->cols[cs].str + row * t->cols[cs].str_len, "");
    }
    cr_assert(seen);
    h5r_run_free(&r);
    ctr_close(&c);
}

Test(counters_fallback, forced_conflict_reason) {
    ctr_test_force_failure("PAPI_L1_DCM", PAPI_ECNFLCT);
    ctr_set c;
    cr_assert_eq(ctr_open(&c, "PAPI_L1_DCM"), ERR_OK);
    ctr_test_force_failure(NULL, 0);
    cr_assert_eq(c.events[0].available, 0);
    cr_assert(strstr(c.events[0].reason, "conflicts"), "%s", c.events[0].reason);
    ctr_close(&c);
}

// A forced-unavailable perf::TASK-CLOCK gets the thread-CPU-time substitute under its own
// name and source; the substitute counts real time (it is never 0 after work).
Test(counters_fallback, task_clock_substitute) {
    ctr_test_force_failure("perf::TASK-CLOCK", PAPI_ENOEVNT);
    ctr_set c;
    cr_assert_eq(ctr_open(&c, "perf::TASK-CLOCK"), ERR_OK);
    ctr_test_force_failure(NULL, 0);
    cr_assert_eq(c.events[0].available, 0);
    cr_assert(strstr(c.events[0].reason, "not supported"), "%s", c.events[0].reason);
    int f = find(&c, "sys::thread-cpu-ns");
    cr_assert(f >= 0, "fallback appended");
    cr_assert_eq(c.events[f].available, 1);
    cr_assert_str_eq(c.events[f].substitutes, "perf::TASK-CLOCK");
    cr_assert(strstr(c.events[f].source, "CLOCK_THREAD_CPUTIME_ID"));
    cr_assert(strcmp(c.events[f].source, "PAPI"), "never pretends to be PAPI");
    cr_assert_eq(c.n_avail, 1);
    cr_assert_eq(c.n_papi, 0);
    long long v0[1], v1[1];
    cr_assert_eq(ctr_start(&c), ERR_OK, "%s", err_msg());
    cr_assert_eq(ctr_read(&c, v0), ERR_OK);
    busy(20000000);
    cr_assert_eq(ctr_read(&c, v1), ERR_OK);
    cr_assert_gt(v1[0] - v0[0], 1000000, "20M adds take more than 1 ms of CPU");
    ctr_stop(&c);
    ctr_close(&c);
}

Test(counters_fallback, page_faults_substitute_counts) {
    ctr_set c;
    cr_assert_eq(ctr_open(&c, "sys::page-faults,sys::ctx-switches"), ERR_OK);
    cr_assert_eq(c.n_avail, 2);
    long long v0[2], v1[2];
    cr_assert_eq(ctr_start(&c), ERR_OK);
    cr_assert_eq(ctr_read(&c, v0), ERR_OK);
    size_t n = 64u << 20;  // 64 MiB touched: >= 16384 first-touch faults
    char *p = malloc(n);
    cr_assert(p);
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    cr_assert_eq(ctr_read(&c, v1), ERR_OK);
    free(p);
    cr_assert_gt(v1[0] - v0[0], 1000, "faults %lld", v1[0] - v0[0]);
    cr_assert_geq(v1[1], v0[1]);
    ctr_stop(&c);
    ctr_close(&c);
}

// Forcing the substitute itself unavailable records that too.
Test(counters_fallback, forced_sys_unavailable) {
    ctr_test_force_failure("sys::thread-cpu-ns", -1);
    ctr_set c;
    cr_assert_eq(ctr_open(&c, "sys::thread-cpu-ns"), ERR_OK);
    ctr_test_force_failure(NULL, 0);
    cr_assert_eq(c.events[0].available, 0);
    cr_assert(c.events[0].reason[0]);
    cr_assert_eq(c.n_avail, 0);
    ctr_close(&c);
}
