// counters (ctr_) — see bench/counters.h. Events are added to one PAPI event set one at a
// time so that each failure can be attributed to its event and explained; the values of
// ctr_read come back in avail_idx order, which is the order PAPI added them.
#include "bench/counters.h"
#include "kernels/err.h"

#include <papi.h>
#include <stdio.h>
#include <string.h>

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
    c->n_avail = 0;
    for (int i = 0; i < c->n_events; i++)
        if (c->events[i].available) c->avail_idx[c->n_avail++] = i;
}

// Adds events[i] to the event set or records why it cannot be.
static void probe(ctr_set *c, int i) {
    ctr_event *e = &c->events[i];
    int code = 0;
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
    e->reason[0] = 0;
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
        return ERR_OK;
    }
    c->papi_ok = 1;
    rc = PAPI_create_eventset(&c->event_set);
    if (rc != PAPI_OK) {
        c->event_set = PAPI_NULL;
        for (int i = 0; i < c->n_events; i++)
            snprintf(c->events[i].reason, sizeof c->events[i].reason,
                     "PAPI_create_eventset failed: %s", PAPI_strerror(rc));
        return ERR_OK;
    }
    for (int i = 0; i < c->n_events; i++) probe(c, i);
    rebuild_avail(c);
    return ERR_OK;
}

int ctr_start(ctr_set *c) {
    if (c->running) return err_set(ERR_ARG, "counters already running");
    if (c->n_avail == 0) { c->running = 1; return ERR_OK; }  // nothing to count: a no-op
    int rc = PAPI_start(c->event_set);
    if (rc != PAPI_OK) return err_set(ERR_IO, "PAPI_start failed: %s", PAPI_strerror(rc));
    c->running = 1;
    return ERR_OK;
}

int ctr_read(ctr_set *c, long long *values) {
    if (!c->running) return err_set(ERR_ARG, "counters read before ctr_start");
    if (c->n_avail == 0) return ERR_OK;
    int rc = PAPI_read(c->event_set, values);
    if (rc != PAPI_OK) return err_set(ERR_IO, "PAPI_read failed: %s", PAPI_strerror(rc));
    return ERR_OK;
}

int ctr_stop(ctr_set *c) {
    if (!c->running) return ERR_OK;
    c->running = 0;
    if (c->n_avail == 0) return ERR_OK;
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
    } else if (c->events[i].available && c->papi_ok && c->event_set != PAPI_NULL) {
        int code;
        if (PAPI_event_name_to_code(c->events[i].name, &code) == PAPI_OK)
            PAPI_remove_event(c->event_set, code);
    }
    c->events[i].available = 0;
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
    CTR_PUT("PAPI %s: %s; %d of %d events counted (calling thread only)\n", c->papi_version,
            c->papi_ok ? "initialised" : "NOT initialised", c->n_avail, c->n_events);
    for (int i = 0; i < c->n_events; i++) {
        const ctr_event *e = &c->events[i];
        if (e->available) CTR_PUT("  %-22s counted\n", e->name);
        else CTR_PUT("  %-22s unavailable: %s\n", e->name, e->reason);
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
    if (ce < 0 || ca < 0 || cr < 0) return ERR_NOMEM;
    for (int i = 0; i < c->n_events; i++) {
        long r = h5r_table_row(t);
        if (r < 0) return ERR_NOMEM;
        h5r_set_str(t, ce, (size_t)r, c->events[i].name);
        h5r_set_i64(t, ca, (size_t)r, c->events[i].available);
        h5r_set_str(t, cr, (size_t)r, c->events[i].reason);
    }
    return ERR_OK;
}
