// counters (ctr_) — see bench/counters.h. Events are added to one PAPI event set one at a
// time so that each failure can be attributed to its event and explained; the values of
// ctr_read come back in avail_idx order, which is the order PAPI added them.
#include "bench/counters.h"
#include "kernels/err.h"

#include <papi.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

// Operating-system substitutes (see counters.h): name, source, the PAPI event it replaces.
static const struct { const char *name, *source, *replaces; int kind; } ctr_sys_events[] = {
    {"sys::thread-cpu-ns", "clock_gettime(CLOCK_THREAD_CPUTIME_ID)", "perf::TASK-CLOCK", CTR_KIND_THREAD_CPU_NS},
    {"sys::page-faults", "getrusage(RUSAGE_THREAD) ru_minflt+ru_majflt", "perf::PAGE-FAULTS", CTR_KIND_PAGE_FAULTS},
    {"sys::ctx-switches", "getrusage(RUSAGE_THREAD) ru_nvcsw+ru_nivcsw", "", CTR_KIND_CTX_SWITCHES},
};
#define CTR_N_SYS ((int)(sizeof ctr_sys_events / sizeof *ctr_sys_events))

static const char *force_name;  // test hook (ctr_test_force_failure)
static int force_rc;

void ctr_test_force_failure(const char *name, int papi_rc) {
    force_name = name;
    force_rc = papi_rc;
}

static int sys_index(const char *name) {
    for (int k = 0; k < CTR_N_SYS; k++)
        if (!strcmp(ctr_sys_events[k].name, name)) return k;
    return -1;
}

static const char *const ctr_default_list =
    "PAPI_TOT_INS,PAPI_TOT_CYC,PAPI_L1_DCM,PAPI_L2_DCM,PAPI_L3_TCM,perf::TASK-CLOCK,perf::PAGE-FAULTS";

static int paranoid_level(void) {
    int v = -99;
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    if (f) {
        if (fscanf(f, "%d", &v) != 1) v = -99;
        fclose(f);
    }
    return v;
}

// The reason a disabled PAPI component gives (e.g. "libpfm4 no default PMU found"), or NULL.
static const char *component_disabled(const char *cname) {
    int cid = PAPI_get_component_index(cname);
    if (cid < 0) return NULL;
    const PAPI_component_info_t *ci = PAPI_get_component_info(cid);
    if (!ci || !ci->disabled) return NULL;
    return ci->disabled_reason[0] ? ci->disabled_reason : "component disabled";
}

static void set_reason(ctr_event *e, int papi_rc, const char *what) {
    char ctx[128];
    const char *comp = component_disabled("perf_event");
    // PAPI_ECMP_DISABLED (-25) is missing from older papi.h; a disabled component means
    // the kernel/VM exposes no counters for it.
    switch (papi_rc == -25 ? PAPI_ENOCNTR : papi_rc) {
    case PAPI_ENOEVNT:
    case PAPI_ECMP:
    case PAPI_ENOCNTR:
    case PAPI_ENOSUPP:
        snprintf(ctx, sizeof ctx, "not supported on this hardware/VM (no PMU)");
        break;
    case PAPI_ECNFLCT:
    case PAPI_EMULPASS:
        snprintf(ctx, sizeof ctx, "conflicts with already-added events");
        break;
    case PAPI_EPERM:
        snprintf(ctx, sizeof ctx, "permission denied; check /proc/sys/kernel/perf_event_paranoid "
                                  "(currently %d)", paranoid_level());
        break;
    default:
        snprintf(ctx, sizeof ctx, "cannot be counted here");
        break;
    }
    int len;
    if (comp && (papi_rc == PAPI_ECMP || papi_rc == PAPI_ENOEVNT || papi_rc == -25))
        len = snprintf(e->reason, sizeof e->reason, "%s: %s (PAPI: %.60s; perf_event component: %.60s)",
                       what, ctx, PAPI_strerror(papi_rc), comp);
    else
        len = snprintf(e->reason, sizeof e->reason, "%s: %s (PAPI: %.60s)", what, ctx,
                       PAPI_strerror(papi_rc));
    // A reason cut short still names the event's problem; mark it so nobody parses the tail.
    if (len >= (int)sizeof e->reason) memcpy(e->reason + sizeof e->reason - 4, "...", 4);
}

static void rebuild_avail(ctr_set *c) {
    c->n_avail = c->n_papi = 0;
    for (int i = 0; i < c->n_events; i++)
        if (c->events[i].available) {
            c->avail_idx[c->n_avail++] = i;
            c->n_papi += c->events[i].kind == CTR_KIND_PAPI;
        }
}

// Adds events[i] to the event set or records why it cannot be.
static void probe(ctr_set *c, int i) {
    ctr_event *e = &c->events[i];
    int code = 0;
    if (force_name && !strcmp(force_name, e->name)) {
        set_reason(e, force_rc, "PAPI_add_event");
        return;
    }
    if (!c->papi_ok || c->event_set == PAPI_NULL) return;  // reason already set by ctr_open
    int rc = PAPI_event_name_to_code(e->name, &code);
    if (rc != PAPI_OK) {
        // A "pmu::event" name whose component is disabled is a hardware/VM limit, not a typo.
        const char *comp = strstr(e->name, "::") ? component_disabled("perf_event") : NULL;
        if (comp)
            snprintf(e->reason, sizeof e->reason,
                     "not supported on this hardware/VM (no PMU): PAPI perf_event component "
                     "disabled: %.80s", comp);
        else
            snprintf(e->reason, sizeof e->reason, "unknown event name (PAPI: %s)", PAPI_strerror(rc));
        return;
    }
    rc = PAPI_add_event(c->event_set, code);
    if (rc != PAPI_OK) {
        set_reason(e, rc, "PAPI_add_event");
        return;
    }
    e->available = 1;
    e->kind = CTR_KIND_PAPI;
    e->reason[0] = 0;
    snprintf(e->source, sizeof e->source, "PAPI");
}

// A sys:: event is always countable (the calls exist on every Linux); a forced failure wins.
static void probe_sys(ctr_event *e, int k) {
    if (force_name && !strcmp(force_name, e->name)) {
        snprintf(e->reason, sizeof e->reason, "forced unavailable (test hook, rc %d)", force_rc);
        return;
    }
    e->available = 1;
    e->kind = ctr_sys_events[k].kind;
    e->reason[0] = 0;
    snprintf(e->source, sizeof e->source, "%s", ctr_sys_events[k].source);
}

// Appends the OS substitute for each unavailable PAPI event that has one (unless listed).
static void add_fallbacks(ctr_set *c) {
    int n0 = c->n_events;
    for (int i = 0; i < n0; i++) {
        if (c->events[i].available) continue;
        for (int k = 0; k < CTR_N_SYS; k++) {
            if (strcmp(ctr_sys_events[k].replaces, c->events[i].name)) continue;
            int dup = 0;
            for (int j = 0; j < c->n_events; j++) dup |= !strcmp(c->events[j].name, ctr_sys_events[k].name);
            if (dup || c->n_events == CTR_MAX_EVENTS) continue;
            ctr_event *f = &c->events[c->n_events++];
            memset(f, 0, sizeof *f);
            snprintf(f->name, sizeof f->name, "%s", ctr_sys_events[k].name);
            snprintf(f->substitutes, sizeof f->substitutes, "%s", c->events[i].name);
            probe_sys(f, k);
        }
    }
}

int ctr_open(ctr_set *c, const char *list) {
    memset(c, 0, sizeof *c);
    c->event_set = PAPI_NULL;
    const char *src = list ? list : ctr_default_list;
    // Parse first: a malformed list is the only failure.
    for (const char *p = src; *p;) {
        while (*p == ' ' || *p == '\t') p++;
        const char *end = p + strcspn(p, ",");
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t')) last--;
        size_t len = (size_t)(last - p);
        if (len == 0) return err_set(ERR_ARG, "event list '%s' has an empty entry", src);
        if (len >= sizeof c->events[0].name)
            return err_set(ERR_ARG, "event name '%.*s' is too long", (int)len, p);
        if (c->n_events == CTR_MAX_EVENTS)
            return err_set(ERR_ARG, "event list has more than %d events", CTR_MAX_EVENTS);
        ctr_event *e = &c->events[c->n_events++];
        memcpy(e->name, p, len);
        e->name[len] = 0;
        for (int j = 0; j < c->n_events - 1; j++)
            if (strcmp(c->events[j].name, e->name) == 0)
                return err_set(ERR_ARG, "event '%s' listed twice", e->name);
        p = *end ? end + 1 : end;
        if (*end && !*p) return err_set(ERR_ARG, "event list '%s' ends with a comma", src);
    }
    snprintf(c->papi_version, sizeof c->papi_version, "%d.%d.%d.%d",
             PAPI_VERSION_MAJOR(PAPI_VERSION), PAPI_VERSION_MINOR(PAPI_VERSION),
             PAPI_VERSION_REVISION(PAPI_VERSION), PAPI_VERSION_INCREMENT(PAPI_VERSION));

    int rc = PAPI_is_initialized() ? (int)PAPI_VER_CURRENT : PAPI_library_init(PAPI_VER_CURRENT);
    if (rc != PAPI_VER_CURRENT) {
        char why[160];
        if (rc > 0)
            snprintf(why, sizeof why, "PAPI library version mismatch (header %d.%d, library %d.%d)",
                     PAPI_VERSION_MAJOR(PAPI_VER_CURRENT), PAPI_VERSION_MINOR(PAPI_VER_CURRENT),
                     PAPI_VERSION_MAJOR(rc), PAPI_VERSION_MINOR(rc));
        else
            snprintf(why, sizeof why, "PAPI_library_init failed: %s", PAPI_strerror(rc));
        for (int i = 0; i < c->n_events; i++) snprintf(c->events[i].reason, sizeof c->events[i].reason, "%s", why);
    } else {
        c->papi_ok = 1;
        rc = PAPI_create_eventset(&c->event_set);
        if (rc != PAPI_OK) {
            c->event_set = PAPI_NULL;
            for (int i = 0; i < c->n_events; i++)
                snprintf(c->events[i].reason, sizeof c->events[i].reason,
                         "PAPI_create_eventset failed: %s", PAPI_strerror(rc));
        }
    }
    for (int i = 0; i < c->n_events; i++) {
        int k = sys_index(c->events[i].name);
        if (k >= 0) probe_sys(&c->events[i], k);
        else probe(c, i);
    }
    add_fallbacks(c);
    rebuild_avail(c);
    return ERR_OK;
}

int ctr_start(ctr_set *c) {
    if (c->running) return err_set(ERR_ARG, "counters already running");
    if (c->n_papi == 0) { c->running = 1; return ERR_OK; }  // only sys:: events (or none)
    int rc = PAPI_start(c->event_set);
    if (rc != PAPI_OK) return err_set(ERR_IO, "PAPI_start failed: %s", PAPI_strerror(rc));
    c->running = 1;
    return ERR_OK;
}

int ctr_read(ctr_set *c, long long *values) {
    if (!c->running) return err_set(ERR_ARG, "counters read before ctr_start");
    if (c->n_avail == 0) return ERR_OK;
    long long papi[CTR_MAX_EVENTS];
    if (c->n_papi) {
        int rc = PAPI_read(c->event_set, papi);
        if (rc != PAPI_OK) return err_set(ERR_IO, "PAPI_read failed: %s", PAPI_strerror(rc));
    }
    struct rusage ru;
    int have_ru = 0;
    // PAPI returns its events in the order they were added, which is events[] order.
    for (int k = 0, p = 0; k < c->n_avail; k++) {
        const ctr_event *e = &c->events[c->avail_idx[k]];
        if (e->kind == CTR_KIND_PAPI) { values[k] = papi[p++]; continue; }
        if (e->kind == CTR_KIND_THREAD_CPU_NS) {
            struct timespec ts;
            if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
                return err_set(ERR_IO, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
            values[k] = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
            continue;
        }
        if (!have_ru && getrusage(RUSAGE_THREAD, &ru)) return err_set(ERR_IO, "getrusage(RUSAGE_THREAD) failed");
        have_ru = 1;
        values[k] = e->kind == CTR_KIND_PAGE_FAULTS ? (long long)ru.ru_minflt + ru.ru_majflt
                                                     : (long long)ru.ru_nvcsw + ru.ru_nivcsw;
    }
    return ERR_OK;
}

int ctr_stop(ctr_set *c) {
    if (!c->running) return ERR_OK;
    c->running = 0;
    if (c->n_papi == 0) return ERR_OK;
    long long tmp[CTR_MAX_EVENTS];  // PAPI_stop wants somewhere to put the final values
    int rc = PAPI_stop(c->event_set, tmp);
    if (rc != PAPI_OK) return err_set(ERR_IO, "PAPI_stop failed: %s", PAPI_strerror(rc));
    return ERR_OK;
}

void ctr_close(ctr_set *c) {
    if (c->running) ctr_stop(c);
    if (c->papi_ok && c->event_set != PAPI_NULL) {
        PAPI_cleanup_eventset(c->event_set);
        PAPI_destroy_eventset(&c->event_set);
    }
    c->event_set = PAPI_NULL;
    c->n_avail = 0;
}

void ctr_mark_unavailable(ctr_set *c, const char *name, const char *reason) {
    if (c->running) return;  // the event set cannot change while counting
    int i = 0;
    while (i < c->n_events && strcmp(c->events[i].name, name) != 0) i++;
    if (i == c->n_events) {
        // Not requested: still listed, so the results say it was deliberately left out.
        if (c->n_events == CTR_MAX_EVENTS) return;
        c->n_events++;
        snprintf(c->events[i].name, sizeof c->events[i].name, "%s", name);
    } else if (c->events[i].available && c->events[i].kind == CTR_KIND_PAPI && c->papi_ok &&
               c->event_set != PAPI_NULL) {
        int code;
        if (PAPI_event_name_to_code(c->events[i].name, &code) == PAPI_OK)
            PAPI_remove_event(c->event_set, code);
    }
    c->events[i].available = 0;
    c->events[i].source[0] = 0;
    snprintf(c->events[i].reason, sizeof c->events[i].reason, "%s",
             reason && reason[0] ? reason : "excluded");
    rebuild_avail(c);
}

int ctr_describe(const ctr_set *c, char *buf, size_t n) {
    size_t len = 0;
    int want = 0;
#define CTR_PUT(...)                                                                     \
    do {                                                                                 \
        int k_ = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, __VA_ARGS__); \
        if (k_ > 0) { want += k_; len += (size_t)k_; }                                   \
    } while (0)
    if (n) buf[0] = 0;
    char runtime[32] = "?";
    if (c->papi_ok) {
        int v = PAPI_get_opt(PAPI_LIB_VERSION, NULL);
        if (v > 0)
            snprintf(runtime, sizeof runtime, "%d.%d.%d.%d", PAPI_VERSION_MAJOR(v), PAPI_VERSION_MINOR(v),
                     PAPI_VERSION_REVISION(v), PAPI_VERSION_INCREMENT(v));
    }
    CTR_PUT("PAPI %s (header), %s (library): %s; %d of %d events counted, %d through PAPI "
            "(calling thread only, no multiplexing)\n", c->papi_version, runtime,
            c->papi_ok ? "initialised" : "NOT initialised", c->n_avail, c->n_events, c->n_papi);
    int hyper = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5)) { hyper = strstr(line, " hypervisor") != NULL; break; }
    if (f) fclose(f);
    CTR_PUT("  virtual machine: %s; perf_event_paranoid %d\n",
            hyper ? "yes (cpuid hypervisor flag): hardware events only if the hypervisor exposes a vPMU" : "no",
            paranoid_level());
    if (c->papi_ok) {
        int nc = PAPI_num_components();
        for (int k = 0; k < nc; k++) {
            const PAPI_component_info_t *ci = PAPI_get_component_info(k);
            if (!ci) continue;
            if (ci->disabled)
                CTR_PUT("  component %-12s disabled: %.120s\n", ci->name,
                        ci->disabled_reason[0] ? ci->disabled_reason : "(no reason given)");
            else
                CTR_PUT("  component %-12s enabled, %d hardware counters\n", ci->name, ci->num_cntrs);
        }
    }
    for (int i = 0; i < c->n_events; i++) {
        const ctr_event *e = &c->events[i];
        if (!e->available) CTR_PUT("  %-22s unavailable: %s\n", e->name, e->reason);
        else if (e->substitutes[0])
            CTR_PUT("  %-22s counted by %s (fallback for %s; not PAPI)\n", e->name, e->source, e->substitutes);
        else CTR_PUT("  %-22s counted by %s\n", e->name, e->source);
    }
#undef CTR_PUT
    return want;
}

int ctr_add_table(const ctr_set *c, h5r_run *run) {
    h5r_table *t = h5r_run_table(run, "counters");
    if (!t) return ERR_NOMEM;
    int ce = h5r_table_col(t, "event", H5R_STR, (int)sizeof c->events[0].name);
    int ca = h5r_table_col(t, "available", H5R_I64, 0);
    int cr = h5r_table_col(t, "reason", H5R_STR, (int)sizeof c->events[0].reason);
    int cs = h5r_table_col(t, "source", H5R_STR, (int)sizeof c->events[0].source);
    int cb = h5r_table_col(t, "substitutes", H5R_STR, (int)sizeof c->events[0].substitutes);
    if (ce < 0 || ca < 0 || cr < 0 || cs < 0 || cb < 0) return ERR_NOMEM;
    h5r_attr_i64(run, "counters_multiplexed", 0);
    h5r_attr_str(run, "counters_granularity", "calling thread");
    for (int i = 0; i < c->n_events; i++) {
        long r = h5r_table_row(t);
        if (r < 0) return ERR_NOMEM;
        h5r_set_str(t, ce, (size_t)r, c->events[i].name);
        h5r_set_i64(t, ca, (size_t)r, c->events[i].available);
        h5r_set_str(t, cr, (size_t)r, c->events[i].reason);
        h5r_set_str(t, cs, (size_t)r, c->events[i].source);
        h5r_set_str(t, cb, (size_t)r, c->events[i].substitutes);
    }
    return ERR_OK;
}
