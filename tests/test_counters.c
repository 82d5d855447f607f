// Tests for bench/counters.c. This VM has no PMU (and PAPI's perf_event component may be
// disabled altogether), so tests that need a counted event skip with the recorded reason.
#include "bench/counters.h"
#include "kernels/err.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static int find(const ctr_set *c, const char *name) {
    for (int i = 0; i < c->n_events; i++)
        if (strcmp(c->events[i].name, name) == 0) return i;
    return -1;
}

// Position of event i among the read values, or -1 when it is not counted.
static int value_slot(const ctr_set *c, int i) {
    for (int k = 0; k < c->n_avail; k++)
        if (c->avail_idx[k] == i) return k;
    return -1;
}

static volatile double sink;
static void busy(long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += (double)i * 1e-9;
    sink = s;
}

Test(counters, default_set_opens) {
    ctr_set c;
    cr_assert_eq(ctr_open(&c, NULL), ERR_OK);
    cr_assert(c.n_events >= 7, "the 7 defaults plus any sys:: fallbacks");
    cr_assert_str_eq(c.events[0].name, "PAPI_TOT_INS");
    cr_assert(c.papi_version[0]);
    for (int i = 0; i < c.n_events; i++) {
        if (c.events[i].available) cr_assert_eq(c.events[i].reason[0], 0);
        else cr_assert(c.events[i].reason[0], "%s unavailable without a reason", c.events[i].name);
    }
    // Start/read/stop work even when nothing is countable.
    long long v[CTR_MAX_EVENTS];
    cr_assert_eq(ctr_start(&c), ERR_OK, "%s", err_msg());
    cr_assert_eq(ctr_read(&c, v), ERR_OK, "%s", err_msg());
    cr_assert_eq(ctr_stop(&c), ERR_OK);
    char buf[4096];
    int n = ctr_describe(&c, buf, sizeof buf);
    cr_assert(n > 0 && strstr(buf, "PAPI_TOT_INS") && strstr(buf, "perf::TASK-CLOCK"), "%s", buf);
    ctr_close(&c);
}

Test(counters, malformed_lists) {
    ctr_set c;
    cr_assert_eq(ctr_open(&c, "PAPI_TOT_INS,,PAPI_TOT_CYC"), ERR_ARG);
    cr_assert_eq(ctr_open(&c, "PAPI_TOT_INS,"), ERR_ARG);
    cr_assert_eq(ctr_open(&c, "PAPI_TOT_INS,PAPI_TOT_INS"), ERR_ARG);
    cr_assert_eq(ctr_open(&c, " PAPI_TOT_INS , perf::TASK-CLOCK "), ERR_OK);
    cr_assert_str_eq(c.events[1].name, "perf::TASK-CLOCK");
    ctr_close(&c);
}

Test(counters, task_clock_increases) {
    ctr_set c;
    cr_assert_eq(ctr_open(&c, "perf::TASK-CLOCK"), ERR_OK);
    char why[256];
    snprintf(why, sizeof why, "%s", c.events[0].reason);
    if (!c.papi_ok) {
        ctr_close(&c);
        cr_skip_test("PAPI cannot initialise: %s", why);
    }
    if (!c.events[0].available) {
        ctr_close(&c);
        cr_skip_test("perf::TASK-CLOCK not countable on this machine: %s", why);
    }
    long long v0[1], v1[1];
    cr_assert_eq(ctr_start(&c), ERR_OK, "%s", err_msg());
    cr_assert_eq(ctr_read(&c, v0), ERR_OK);
    busy(20000000);
    cr_assert_eq(ctr_read(&c, v1), ERR_OK);
    cr_assert_gt(v1[0], v0[0]);
    ctr_stop(&c);
    ctr_close(&c);
}

Test(counters, forced_unavailable_excluded) {
    ctr_set c;
    cr_assert_eq(ctr_open(&c, "perf::TASK-CLOCK,perf::PAGE-FAULTS"), ERR_OK);
    ctr_mark_unavailable(&c, "perf::TASK-CLOCK", "excluded by --events");
    int i = find(&c, "perf::TASK-CLOCK");
    cr_assert_eq(c.events[i].available, 0);
    cr_assert_str_eq(c.events[i].reason, "excluded by --events");
    cr_assert_eq(value_slot(&c, i), -1, "excluded from reads");
    for (int k = 0; k < c.n_avail; k++) cr_assert_neq(c.avail_idx[k], i);
    // An event not in the list is appended, still with its reason.
    ctr_mark_unavailable(&c, "PAPI_L1_DCM", "user said so");
    i = find(&c, "PAPI_L1_DCM");
    cr_assert(i >= 0);
    cr_assert_eq(c.events[i].available, 0);
    cr_assert_str_eq(c.events[i].reason, "user said so");
    long long v[CTR_MAX_EVENTS];
    cr_assert_eq(ctr_start(&c), ERR_OK, "%s", err_msg());
    cr_assert_eq(ctr_read(&c, v), ERR_OK, "%s", err_msg());
    ctr_stop(&c);

    h5r_run r;
    h5r_run_init(&r);
    cr_assert_eq(ctr_add_table(&c, &r), ERR_OK);
    cr_assert_eq(r.n_tables, 1);
    cr_assert_str_eq(r.tables[0]->name, "counters");
    cr_assert_eq(r.tables[0]->n_rows, (size_t)c.n_events);
    h5r_run_free(&r);
    ctr_close(&c);
}

Test(counters, bogus_name_unknown) {
    ctr_set c;
    cr_assert_eq(ctr_open(&c, "NOT_AN_EVENT"), ERR_OK);
    cr_assert_eq(c.events[0].available, 0);
    cr_assert_eq(c.n_avail, 0);
    if (c.papi_ok) cr_assert(strstr(c.events[0].reason, "unknown event"), "%s", c.events[0].reason);
    ctr_close(&c);
}

Test(counters, hardware_instructions) {
    ctr_set c;
    cr_assert_eq(ctr_open(&c, "PAPI_TOT_INS"), ERR_OK);
    if (!c.events[0].available) {
        char why[256];
        snprintf(why, sizeof why, "%s", c.events[0].reason);
        ctr_close(&c);
        cr_skip_test("PAPI_TOT_INS not countable on this machine: %s", why);
    }
    long long v[1];
    cr_assert_eq(ctr_start(&c), ERR_OK, "%s", err_msg());
    busy(1000000);
    cr_assert_eq(ctr_read(&c, v), ERR_OK);
    cr_assert_gt(v[0], 0);
    ctr_stop(&c);
    ctr_close(&c);
}
