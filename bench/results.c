// results (h5r_) — see bench/results.h and reports/SCHEMA.md.
// Atomic append: the old file is never opened for writing. It is checked read-only, copied
// to "<path>.tmp.<pid>", the new run is added to the copy, and the copy is renamed over the
// original after fsync. A failure at any step removes the temporary and leaves `path` as it was.
#include "bench/results.h"
#include "bench/counters.h"
#include "kernels/err.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <papi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef NEUROICL_VERSION
#define NEUROICL_VERSION "unknown"
#endif
#ifndef NEUROICL_GIT
#define NEUROICL_GIT "unknown"
#endif
#ifndef NEUROICL_CC
#define NEUROICL_CC "cc"
#endif
#ifndef NEUROICL_CFLAGS
#define NEUROICL_CFLAGS "unknown"
#endif

// ---------------------------------------------------------------------------------------
// In-memory tables

int h5r_table_init(h5r_table *t, const char *name) {
    memset(t, 0, sizeof *t);
    if (!name || !name[0] || strlen(name) >= sizeof t->name)
        return err_set(ERR_ARG, "table name '%s' is empty or longer than %zu characters",
                       name ? name : "", sizeof t->name - 1);
    snprintf(t->name, sizeof t->name, "%s", name);
    return ERR_OK;
}

int h5r_col_index(const h5r_table *t, const char *name) {
    for (int i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i].name, name) == 0) return i;
    return -1;
}

// Grows one column's storage to `cap` rows; new rows are zero (strings empty).
static int col_reserve(h5r_column *c, size_t old_cap, size_t cap) {
    size_t elem = c->type == H5R_STR ? (size_t)c->str_len : 8;
    void **p = c->type == H5R_I64 ? (void **)&c->i64
             : c->type == H5R_F64 ? (void **)&c->f64 : (void **)&c->str;
    void *q = realloc(*p, cap * elem);
    if (!q) return err_set(ERR_NOMEM, "out of memory growing table column '%s'", c->name);
    memset((char *)q + old_cap * elem, 0, (cap - old_cap) * elem);
    *p = q;
    return ERR_OK;
}

int h5r_table_col(h5r_table *t, const char *name, h5r_type type, int str_len) {
    if (t->n_rows > 0) {
        err_set(ERR_ARG, "table '%s': column '%s' added after rows", t->name, name);
        return -1;
    }
    if (!name || !name[0] || strlen(name) >= sizeof t->cols[0].name || h5r_col_index(t, name) >= 0) {
        err_set(ERR_ARG, "table '%s': column name '%s' empty, too long or duplicated", t->name,
                name ? name : "");
        return -1;
    }
    if (type == H5R_STR && str_len < 2) {
        err_set(ERR_ARG, "table '%s': string column '%s' needs str_len >= 2", t->name, name);
        return -1;
    }
    if (t->n_cols == t->cap_cols) {
        int cap = t->cap_cols ? 2 * t->cap_cols : 8;
        h5r_column *q = realloc(t->cols, (size_t)cap * sizeof *q);
        if (!q) { err_set(ERR_NOMEM, "out of memory adding column '%s'", name); return -1; }
        t->cols = q;
        t->cap_cols = cap;
    }
    h5r_column *c = &t->cols[t->n_cols];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->type = type;
    c->str_len = type == H5R_STR ? str_len : 0;
    if (t->cap_rows && col_reserve(c, 0, t->cap_rows)) return -1;
    return t->n_cols++;
}

long h5r_table_row(h5r_table *t) {
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 64;
        for (int i = 0; i < t->n_cols; i++)
            if (col_reserve(&t->cols[i], t->cap_rows, cap)) return -1;
        t->cap_rows = cap;
    }
    size_t r = t->n_rows++;
    // NaN, not 0, for an f64 cell nobody set: a missing measurement must not look like one.
    for (int i = 0; i < t->n_cols; i++)
        if (t->cols[i].type == H5R_F64) t->cols[i].f64[r] = NAN;
    return (long)r;
}

void h5r_set_i64(h5r_table *t, int col, size_t row, int64_t v) {
    if (col >= 0 && col < t->n_cols && row < t->n_rows && t->cols[col].type == H5R_I64)
        t->cols[col].i64[row] = v;
}
void h5r_set_f64(h5r_table *t, int col, size_t row, double v) {
    if (col >= 0 && col < t->n_cols && row < t->n_rows && t->cols[col].type == H5R_F64)
        t->cols[col].f64[row] = v;
}
void h5r_set_str(h5r_table *t, int col, size_t row, const char *v) {
    if (col < 0 || col >= t->n_cols || row >= t->n_rows || t->cols[col].type != H5R_STR) return;
    h5r_column *c = &t->cols[col];
    // Truncated to fit, always NUL-terminated (the file type is NULLTERM).
    snprintf(c->str + row * (size_t)c->str_len, (size_t)c->str_len, "%s", v ? v : "");
}

void h5r_table_free(h5r_table *t) {
    if (!t) return;
    for (int i = 0; i < t->n_cols; i++) {
        free(t->cols[i].i64);
        free(t->cols[i].f64);
        free(t->cols[i].str);
    }
    free(t->cols);
    memset(t, 0, sizeof *t);
}

// ---------------------------------------------------------------------------------------
// Runs

void h5r_run_init(h5r_run *r) { memset(r, 0, sizeof *r); }

// Returns the attribute slot for `key` (replacing an earlier value) or NULL when out of memory.
static h5r_attr *attr_slot(h5r_run *r, const char *key) {
    for (int i = 0; i < r->n_attrs; i++)
        if (strcmp(r->attrs[i].key, key) == 0) {
            free(r->attrs[i].s);
            r->attrs[i].s = NULL;
            return &r->attrs[i];
        }
    if (r->n_attrs == r->cap_attrs) {
        int cap = r->cap_attrs ? 2 * r->cap_attrs : 16;
        h5r_attr *q = realloc(r->attrs, (size_t)cap * sizeof *q);
        if (!q) return NULL;
        r->attrs = q;
        r->cap_attrs = cap;
    }
    h5r_attr *a = &r->attrs[r->n_attrs++];
    memset(a, 0, sizeof *a);
    snprintf(a->key, sizeof a->key, "%s", key);
    return a;
}

void h5r_attr_str(h5r_run *r, const char *key, const char *v) {
    h5r_attr *a = attr_slot(r, key);
    if (!a) return;
    a->type = H5R_ATTR_STR;
    a->s = strdup(v ? v : "");
}
void h5r_attr_i64(h5r_run *r, const char *key, int64_t v) {
    h5r_attr *a = attr_slot(r, key);
    if (a) { a->type = H5R_ATTR_I64; a->i = v; }
}
void h5r_attr_f64(h5r_run *r, const char *key, double v) {
    h5r_attr *a = attr_slot(r, key);
    if (a) { a->type = H5R_ATTR_F64; a->f = v; }
}

void h5r_ids_free(char **ids, int n) {
    if (!ids) return;
    for (int i = 0; i < n; i++) free(ids[i]);
    free(ids);
}

int h5r_run_get_i64(const h5r_run *r, const char *key, int64_t *out) {
    for (int i = 0; i < r->n_attrs; i++)
        if (r->attrs[i].type == H5R_ATTR_I64 && !strcmp(r->attrs[i].key, key)) {
            *out = r->attrs[i].i;
            return 0;
        }
    return ERR_ARG;
}

h5r_table *h5r_run_table(h5r_run *r, const char *name) {
    if (r->n_tables == r->cap_tables) {
        int cap = r->cap_tables ? 2 * r->cap_tables : 8;
        h5r_table **q = realloc(r->tables, (size_t)cap * sizeof *q);
        if (!q) { err_set(ERR_NOMEM, "out of memory adding table '%s'", name); return NULL; }
        r->tables = q;
        r->cap_tables = cap;
    }
    h5r_table *t = malloc(sizeof *t);
    if (!t) { err_set(ERR_NOMEM, "out of memory adding table '%s'", name); return NULL; }
    if (h5r_table_init(t, name)) { free(t); return NULL; }
    r->tables[r->n_tables++] = t;
    return t;
}

void h5r_run_free(h5r_run *r) {
    if (!r) return;
    for (int i = 0; i < r->n_attrs; i++) free(r->attrs[i].s);
    free(r->attrs);
    for (int i = 0; i < r->n_tables; i++) {
        h5r_table_free(r->tables[i]);
        free(r->tables[i]);
    }
    free(r->tables);
    memset(r, 0, sizeof *r);
}

// ---------------------------------------------------------------------------------------
// HDF5 helpers

// HDF5 1.12 renamed a few calls; keep both 1.10 (Debian 12) and newer building.
#if H5_VERSION_GE(1, 12, 0)
#define H5R_IS_HDF5(p) H5Fis_accessible((p), H5P_DEFAULT)
#define H5R_LITERATE H5Literate2
typedef H5L_info2_t h5r_linfo;
#else
#define H5R_IS_HDF5(p) H5Fis_hdf5(p)
#define H5R_LITERATE H5Literate
typedef H5L_info_t h5r_linfo;
#endif

// HDF5 prints its error stack to stderr by default; we report one line through err_set.
static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static hid_t str_type(size_t len) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len < 1 ? 1 : len);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    return t;
}

static int write_attr_str(hid_t obj, const char *key, const char *v) {
    hid_t t = str_type(strlen(v) + 1), sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, key, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, t, v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return st < 0 ? err_set(ERR_IO, "cannot write attribute '%s'", key) : ERR_OK;
}

static int write_attr_num(hid_t obj, const char *key, hid_t type, const void *v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, key, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, type, v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return st < 0 ? err_set(ERR_IO, "cannot write attribute '%s'", key) : ERR_OK;
}

static void utc_now(char *iso, size_t n_iso, char *compact, size_t n_compact) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    if (iso) strftime(iso, n_iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (compact) strftime(compact, n_compact, "%Y%m%dT%H%M%SZ", &tm);
}

static void cpu_model(char *out, size_t n) {
    snprintf(out, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        char *p = strchr(line, ':');
        if (!p) continue;
        p++;
        while (*p == ' ' || *p == '\t') p++;
        p[strcspn(p, "\n")] = 0;
        snprintf(out, n, "%s", p);
        break;
    }
    fclose(f);
}

// Provenance written once, when the file is created.
static int write_root_attrs(hid_t file) {
    int64_t sv = H5R_SCHEMA_VERSION;
    char created[32], cpu[256], buf[1024];
    struct utsname u;
    utc_now(created, sizeof created, NULL, 0);
    cpu_model(cpu, sizeof cpu);
    int rc = write_attr_num(file, "schema_version", H5T_NATIVE_INT64, &sv);
    if (!rc) rc = write_attr_str(file, "neuroicl_version", NEUROICL_VERSION);
    if (!rc) rc = write_attr_str(file, "git_describe", NEUROICL_GIT);
    if (!rc) rc = write_attr_str(file, "created_utc", created);
    if (!rc) rc = write_attr_str(file, "host", uname(&u) == 0 ? u.nodename : "unknown");
    if (!rc) rc = write_attr_str(file, "cpu_model", cpu);
#ifdef __VERSION__
    snprintf(buf, sizeof buf, "%s %s", NEUROICL_CC, __VERSION__);
#else
    snprintf(buf, sizeof buf, "%s", NEUROICL_CC);
#endif
    if (!rc) rc = write_attr_str(file, "compiler", buf);
    if (!rc) rc = write_attr_str(file, "cflags", NEUROICL_CFLAGS);
    snprintf(buf, sizeof buf, "%d.%d.%d.%d", PAPI_VERSION_MAJOR(PAPI_VERSION),
             PAPI_VERSION_MINOR(PAPI_VERSION), PAPI_VERSION_REVISION(PAPI_VERSION),
             PAPI_VERSION_INCREMENT(PAPI_VERSION));
    if (!rc) rc = write_attr_str(file, "papi_version", buf);

    // What this machine can count, probed now (the default event list).
    ctr_set c;
    char avail[1024] = "", unavail[2048] = "";
    if (ctr_open(&c, NULL) == ERR_OK) {
        for (int i = 0; i < c.n_events; i++) {
            const ctr_event *e = &c.events[i];
            char *dst = e->available ? avail : unavail;
            size_t cap = e->available ? sizeof avail : sizeof unavail, len = strlen(dst);
            if (e->available)
                snprintf(dst + len, cap - len, "%s%s", len ? "," : "", e->name);
            else
                snprintf(dst + len, cap - len, "%s%s: %s", len ? "; " : "", e->name, e->reason);
        }
        ctr_close(&c);
    }
    if (!rc) rc = write_attr_str(file, "counters_available", avail[0] ? avail : "none");
    if (!rc) rc = write_attr_str(file, "counters_unavailable", unavail[0] ? unavail : "none");
    return rc;
}

static int write_table(hid_t group, const h5r_table *t) {
    if (t->n_cols == 0) return err_set(ERR_ARG, "table '%s' has no columns", t->name);
    size_t row_size = 0;
    for (int i = 0; i < t->n_cols; i++)
        row_size += t->cols[i].type == H5R_STR ? (size_t)t->cols[i].str_len : 8;
    // One packed compound type serves as both memory and file type: native 8-byte numbers
    // and fixed strings, so h5dump/h5py read it without conversion surprises.
    hid_t ct = H5Tcreate(H5T_COMPOUND, row_size);
    size_t off = 0;
    for (int i = 0; i < t->n_cols; i++) {
        const h5r_column *c = &t->cols[i];
        if (c->type == H5R_STR) {
            hid_t st = str_type((size_t)c->str_len);
            H5Tinsert(ct, c->name, off, st);
            H5Tclose(st);
            off += (size_t)c->str_len;
        } else {
            H5Tinsert(ct, c->name, off, c->type == H5R_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
            off += 8;
        }
    }
    unsigned char *buf = NULL;  // (n_rows, row_size)
    if (t->n_rows) {
        buf = malloc(t->n_rows * row_size);
        if (!buf) { H5Tclose(ct); return err_set(ERR_NOMEM, "out of memory writing '%s'", t->name); }
        for (size_t r = 0; r < t->n_rows; r++) {
            unsigned char *row = buf + r * row_size;
            off = 0;
            for (int i = 0; i < t->n_cols; i++) {
                const h5r_column *c = &t->cols[i];
                if (c->type == H5R_STR) {
                    memcpy(row + off, c->str + r * (size_t)c->str_len, (size_t)c->str_len);
                    off += (size_t)c->str_len;
                } else {
                    memcpy(row + off, c->type == H5R_I64 ? (void *)&c->i64[r] : (void *)&c->f64[r], 8);
                    off += 8;
                }
            }
        }
    }
    hsize_t dims[1] = {t->n_rows};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(group, t->name, ct, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = ds < 0 ? -1 : 0;
    if (ds >= 0 && t->n_rows) st = H5Dwrite(ds, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(ct);
    free(buf);
    return st < 0 ? err_set(ERR_IO, "cannot write table '%s'", t->name) : ERR_OK;
}

static int write_run(hid_t file, h5r_run *r) {
    hid_t runs;
    if (H5Lexists(file, "runs", H5P_DEFAULT) > 0) {
        runs = H5Gopen2(file, "runs", H5P_DEFAULT);
    } else {
        // Creation order is tracked so "latest run" does not depend on name sorting.
        hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
        H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
        runs = H5Gcreate2(file, "runs", H5P_DEFAULT, gcpl, H5P_DEFAULT);
        H5Pclose(gcpl);
    }
    if (runs < 0) return err_set(ERR_IO, "cannot open or create group /runs");

    char stamp[32], base[80];
    unsigned short rnd = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, &rnd, sizeof rnd) != (ssize_t)sizeof rnd)
        rnd = (unsigned short)(time(NULL) ^ getpid());
    if (fd >= 0) close(fd);
    utc_now(NULL, 0, stamp, sizeof stamp);
    snprintf(base, sizeof base, "%s-%04x", stamp, rnd);
    snprintf(r->run_id, sizeof r->run_id, "%s", base);
    for (int k = 2; H5Lexists(runs, r->run_id, H5P_DEFAULT) > 0; k++)
        snprintf(r->run_id, sizeof r->run_id, "%s-%d", base, k);

    hid_t g = H5Gcreate2(runs, r->run_id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(runs);
    if (g < 0) return err_set(ERR_IO, "cannot create group /runs/%s", r->run_id);
    char created[32];
    utc_now(created, sizeof created, NULL, 0);
    int rc = write_attr_str(g, "run_id", r->run_id);
    if (!rc) rc = write_attr_str(g, "created_utc", created);
    for (int i = 0; i < r->n_attrs && !rc; i++) {
        const h5r_attr *a = &r->attrs[i];
        if (!strcmp(a->key, "run_id") || !strcmp(a->key, "created_utc")) continue;
        if (a->type == H5R_ATTR_STR) rc = write_attr_str(g, a->key, a->s ? a->s : "");
        else if (a->type == H5R_ATTR_I64) rc = write_attr_num(g, a->key, H5T_NATIVE_INT64, &a->i);
        else rc = write_attr_num(g, a->key, H5T_NATIVE_DOUBLE, &a->f);
    }
    for (int i = 0; i < r->n_tables && !rc; i++) rc = write_table(g, r->tables[i]);
    H5Gclose(g);
    return rc;
}

// Reads root schema_version; returns ERR_FORMAT with the "what to do" message when the file
// is not one of ours.
static int check_schema(const char *path) {
    htri_t is = H5R_IS_HDF5(path);
    if (is <= 0)
        return err_set(ERR_FORMAT, "results file %s exists but is not an HDF5 file; "
                                   "choose another --out", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return err_set(ERR_FORMAT, "results file %s cannot be opened as HDF5; choose another --out", path);
    int64_t v = -1;
    hid_t a = H5Aexists(f, "schema_version") > 0 ? H5Aopen(f, "schema_version", H5P_DEFAULT) : -1;
    herr_t st = a < 0 ? -1 : H5Aread(a, H5T_NATIVE_INT64, &v);
    if (a >= 0) H5Aclose(a);
    H5Fclose(f);
    if (st < 0)
        return err_set(ERR_FORMAT, "results file %s is HDF5 but not a neuroicl results file "
                                   "(no schema_version); choose another --out", path);
    if (v != H5R_SCHEMA_VERSION)
        return err_set(ERR_FORMAT, "results file %s has schema_version %lld, this neuroicl "
                                   "writes %d; choose another --out",
                       path, (long long)v, H5R_SCHEMA_VERSION);
    return ERR_OK;
}

// Byte copy src -> already-open dst_fd (created O_EXCL by the caller).
static int copy_into(const char *src, int dst_fd, const char *path) {
    int in = open(src, O_RDONLY);
    if (in < 0)
        return err_set(ERR_IO, "cannot read results file %s: %s", path, strerror(errno));
    char buf[1 << 16];
    ssize_t n;
    int rc = ERR_OK;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(dst_fd, buf + done, (size_t)(n - done));
            if (w < 0) {
                if (errno == EINTR) continue;
                rc = err_set(ERR_IO, "cannot write results file %s: %s; choose a writable --out",
                             path, strerror(errno));
                goto out;
            }
            done += w;
        }
    }
    if (n < 0) rc = err_set(ERR_IO, "cannot read results file %s: %s", path, strerror(errno));
out:
    close(in);
    return rc;
}

static void fsync_dir_of(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) { fsync(fd); close(fd); }
}

int h5r_check_writable(const char *path) {
    h5_quiet();
    if (!path || !path[0]) return err_set(ERR_ARG, "results file path is empty");
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return err_set(ERR_FORMAT, "results file %s is not a regular file; choose another --out", path);
        int rc = check_schema(path);
        if (rc) return rc;
    } else if (errno != ENOENT) {
        return err_set(ERR_IO, "cannot write results file %s: %s; choose a writable --out", path, strerror(errno));
    }
    // The commit writes a temporary beside the file: the directory must take new files.
    char probe[4200];
    if (snprintf(probe, sizeof probe, "%s.probe.%d", path, (int)getpid()) >= (int)sizeof probe)
        return err_set(ERR_ARG, "results file path too long: %s", path);
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return err_set(ERR_IO, "cannot write results file %s: %s; choose a writable --out", path, strerror(errno));
    close(fd);
    unlink(probe);
    return ERR_OK;
}

int h5r_commit(const char *path, h5r_run *r) {
    h5_quiet();
    if (!path || !path[0]) return err_set(ERR_ARG, "results file path is empty");
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return err_set(ERR_ARG, "results file path too long: %s", path);

    struct stat st;
    int exists = stat(path, &st) == 0;
    if (!exists && errno != ENOENT)
        return err_set(ERR_IO, "cannot write results file %s: %s; choose a writable --out", path,
                       strerror(errno));
    if (exists) {
        if (!S_ISREG(st.st_mode))
            return err_set(ERR_FORMAT, "results file %s is not a regular file; choose another --out", path);
        int rc = check_schema(path);
        if (rc) return rc;
    }
    // O_EXCL: never clobber anything, including a stale temporary of another writer.
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, exists ? (st.st_mode & 0777) : 0644);
    if (fd < 0)
        return err_set(ERR_IO, "cannot write results file %s: %s; choose a writable --out", path,
                       strerror(errno));
    int rc = exists ? copy_into(path, fd, path) : ERR_OK;
    close(fd);
    if (rc) { unlink(tmp); return rc; }

    hid_t f = exists ? H5Fopen(tmp, H5F_ACC_RDWR, H5P_DEFAULT)
                     : H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        unlink(tmp);
        return err_set(ERR_IO, "cannot write results file %s (HDF5 open of %s failed); "
                               "choose a writable --out", path, tmp);
    }
    if (!exists) rc = write_root_attrs(f);
    if (!rc) rc = write_run(f, r);
    if (H5Fclose(f) < 0 && !rc)
        rc = err_set(ERR_IO, "cannot write results file %s: closing %s failed", path, tmp);
    if (rc) {
        unlink(tmp);
        return err_wrap(rc, "results file %s left unchanged", path);
    }
    fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        rc = err_set(ERR_IO, "cannot write results file %s: fsync: %s; choose a writable --out",
                     path, strerror(errno));
        if (fd >= 0) close(fd);
        unlink(tmp);
        return rc;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        rc = err_set(ERR_IO, "cannot write results file %s: rename: %s; choose a writable --out",
                     path, strerror(errno));
        unlink(tmp);
        return rc;
    }
    fsync_dir_of(path);
    return ERR_OK;
}

// ---------------------------------------------------------------------------------------
// Reading

// Opens `path` read-only into *f; returns ERR_IO (missing/unreadable) or ERR_FORMAT (not HDF5).
static int open_ro(const char *path, hid_t *f) {
    h5_quiet();
    *f = -1;
    if (access(path, R_OK) != 0)
        return err_set(ERR_IO, "cannot read results file %s: %s", path, strerror(errno));
    if (H5R_IS_HDF5(path) > 0) *f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*f < 0) return err_set(ERR_FORMAT, "results file %s is not an HDF5 file (give a file neuroicl eval/sweep wrote)", path);
    return ERR_OK;
}

typedef struct { char **ids; int n, cap; int oom; } list_ctx;

static herr_t list_cb(hid_t g, const char *name, const h5r_linfo *info, void *op) {
    (void)g; (void)info;
    list_ctx *c = op;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 16;
        char **q = realloc(c->ids, (size_t)cap * sizeof *q);
        if (!q) { c->oom = 1; return -1; }
        c->ids = q;
        c->cap = cap;
    }
    if (!(c->ids[c->n] = strdup(name))) { c->oom = 1; return -1; }
    c->n++;
    return 0;
}

int h5r_list_runs(const char *path, char ***ids, int *n) {
    *ids = NULL;
    *n = 0;
    hid_t f;
    int orc = open_ro(path, &f);
    if (orc) return orc;
    if (H5Lexists(f, "runs", H5P_DEFAULT) <= 0) { H5Fclose(f); return ERR_OK; }
    hid_t g = H5Gopen2(f, "runs", H5P_DEFAULT);
    list_ctx c = {0};
    hsize_t idx = 0;
    // Creation order when the file tracks it (ours do): oldest first, latest last.
    herr_t st = H5R_LITERATE(g, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, list_cb, &c);
    if (st < 0 && !c.oom) {
        for (int i = 0; i < c.n; i++) free(c.ids[i]);
        c.n = 0;
        idx = 0;
        st = H5R_LITERATE(g, H5_INDEX_NAME, H5_ITER_INC, &idx, list_cb, &c);
    }
    H5Gclose(g);
    H5Fclose(f);
    if (st < 0) {
        for (int i = 0; i < c.n; i++) free(c.ids[i]);
        free(c.ids);
        return c.oom ? err_set(ERR_NOMEM, "out of memory listing runs")
                     : err_set(ERR_FORMAT, "cannot list /runs in %s", path);
    }
    *ids = c.ids;
    *n = c.n;
    return ERR_OK;
}

int h5r_read_table(const char *path, const char *run_id, const char *name, h5r_table *out) {
    memset(out, 0, sizeof *out);
    hid_t f;
    int orc = open_ro(path, &f);
    if (orc) return orc;
    char obj[512];
    snprintf(obj, sizeof obj, "/runs/%s/%s", run_id, name);
    hid_t ds = -1, ft = -1, mt = -1, sp = -1;
    unsigned char *buf = NULL;
    int rc = ERR_OK;
    char grp[256];
    snprintf(grp, sizeof grp, "/runs/%s", run_id);
    // H5Lexists needs every intermediate link to exist, so check level by level.
    if (H5Lexists(f, "/runs", H5P_DEFAULT) <= 0 || H5Lexists(f, grp, H5P_DEFAULT) <= 0) {
        rc = err_set(ERR_ARG, "%s has no run %s (list its runs with: h5ls %s/runs)", path, run_id, path);
        goto done;
    }
    if (H5Lexists(f, obj, H5P_DEFAULT) <= 0) {
        rc = err_set(ERR_FORMAT, "%s has no table %s", path, obj);
        goto done;
    }
    ds = H5Dopen2(f, obj, H5P_DEFAULT);
    if (ds < 0) { rc = err_set(ERR_FORMAT, "%s has no table %s", path, obj); goto done; }
    ft = H5Dget_type(ds);
    if (H5Tget_class(ft) != H5T_COMPOUND) {
        rc = err_set(ERR_FORMAT, "%s: %s is not a compound table", path, obj);
        goto done;
    }
    if ((rc = h5r_table_init(out, name))) goto done;
    int nm = H5Tget_nmembers(ft);
    size_t row_size = 0;
    for (int i = 0; i < nm; i++) {
        char *mname = H5Tget_member_name(ft, (unsigned)i);
        hid_t m = H5Tget_member_type(ft, (unsigned)i);
        H5T_class_t cls = H5Tget_class(m);
        int col = -1;
        if (cls == H5T_INTEGER) col = h5r_table_col(out, mname, H5R_I64, 0), row_size += 8;
        else if (cls == H5T_FLOAT) col = h5r_table_col(out, mname, H5R_F64, 0), row_size += 8;
        else if (cls == H5T_STRING && !H5Tis_variable_str(m)) {
            int len = (int)H5Tget_size(m);
            col = h5r_table_col(out, mname, H5R_STR, len < 2 ? 2 : len);
            row_size += (size_t)(len < 2 ? 2 : len);
        } else {
            err_set(ERR_FORMAT, "%s: %s member '%s' has an unsupported type", path, obj, mname);
        }
        H5Tclose(m);
        H5free_memory(mname);
        if (col < 0) { rc = ERR_FORMAT; goto done; }
    }
    // Memory type built from our columns: HDF5 converts each member to int64/double/string.
    mt = H5Tcreate(H5T_COMPOUND, row_size ? row_size : 1);
    size_t off = 0;
    for (int i = 0; i < out->n_cols; i++) {
        h5r_column *c = &out->cols[i];
        if (c->type == H5R_STR) {
            hid_t st = str_type((size_t)c->str_len);
            H5Tinsert(mt, c->name, off, st);
            H5Tclose(st);
            off += (size_t)c->str_len;
        } else {
            H5Tinsert(mt, c->name, off, c->type == H5R_I64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
            off += 8;
        }
    }
    sp = H5Dget_space(ds);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    if (n < 0) { rc = err_set(ERR_FORMAT, "%s: %s has a bad dataspace", path, obj); goto done; }
    if (n > 0) {
        buf = malloc((size_t)n * row_size);
        if (!buf) { rc = err_set(ERR_NOMEM, "out of memory reading %s", obj); goto done; }
        if (H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            rc = err_set(ERR_FORMAT, "%s: cannot read %s", path, obj);
            goto done;
        }
        for (hssize_t r = 0; r < n; r++) {
            if (h5r_table_row(out) < 0) { rc = ERR_NOMEM; goto done; }
            const unsigned char *row = buf + (size_t)r * row_size;
            off = 0;
            for (int i = 0; i < out->n_cols; i++) {
                h5r_column *c = &out->cols[i];
                if (c->type == H5R_STR) {
                    memcpy(c->str + (size_t)r * (size_t)c->str_len, row + off, (size_t)c->str_len);
                    c->str[((size_t)r + 1) * (size_t)c->str_len - 1] = 0;
                    off += (size_t)c->str_len;
                } else {
                    memcpy(c->type == H5R_I64 ? (void *)&c->i64[r] : (void *)&c->f64[r], row + off, 8);
                    off += 8;
                }
            }
        }
    }
done:
    free(buf);
    if (sp >= 0) H5Sclose(sp);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (ds >= 0) H5Dclose(ds);
    H5Fclose(f);
    if (rc) h5r_table_free(out);
    return rc;
}

// Opens attribute `key` of object `obj` ("/" or "/runs/<id>") into *attr; returns the error
// code (ERR_IO missing file, ERR_FORMAT not HDF5 / no such attribute) with err set.
static int open_attr(const char *path, const char *obj, const char *key, hid_t *file, hid_t *attr) {
    *attr = -1;
    int rc = open_ro(path, file);
    if (rc) return rc;
    if (H5Oexists_by_name(*file, obj, H5P_DEFAULT) > 0 &&
        H5Aexists_by_name(*file, obj, key, H5P_DEFAULT) > 0)
        *attr = H5Aopen_by_name(*file, obj, key, H5P_DEFAULT, H5P_DEFAULT);
    if (*attr < 0) {
        H5Fclose(*file);
        *file = -1;
        return err_set(ERR_FORMAT, "%s: %s has no attribute '%s'", path, obj, key);
    }
    return ERR_OK;
}

int h5r_read_attr_str(const char *path, const char *obj, const char *key, char *out, size_t n) {
    hid_t f, a;
    if (n) out[0] = 0;
    int orc = open_attr(path, obj, key, &f, &a);
    if (orc) return orc;
    hid_t t = H5Aget_type(a);
    int rc = ERR_OK;
    if (H5Tget_class(t) != H5T_STRING) {
        rc = err_set(ERR_FORMAT, "%s: attribute %s/%s is not a string", path, obj, key);
    } else if (H5Tis_variable_str(t)) {
        char *s = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        if (H5Aread(a, mt, &s) < 0) rc = err_set(ERR_FORMAT, "%s: cannot read %s/%s", path, obj, key);
        else snprintf(out, n, "%s", s ? s : "");
        if (s) H5free_memory(s);
        H5Tclose(mt);
    } else {
        size_t len = H5Tget_size(t);
        char *s = calloc(len + 1, 1);
        hid_t mt = str_type(len + 1);
        if (!s) rc = err_set(ERR_NOMEM, "out of memory");
        else if (H5Aread(a, mt, s) < 0) rc = err_set(ERR_FORMAT, "%s: cannot read %s/%s", path, obj, key);
        else snprintf(out, n, "%s", s);
        H5Tclose(mt);
        free(s);
    }
    H5Tclose(t);
    H5Aclose(a);
    H5Fclose(f);
    return rc;
}

static int read_attr_num(const char *path, const char *obj, const char *key, hid_t mt, void *out,
                         H5T_class_t want1, H5T_class_t want2) {
    hid_t f, a;
    int orc = open_attr(path, obj, key, &f, &a);
    if (orc) return orc;
    hid_t t = H5Aget_type(a);
    H5T_class_t cls = H5Tget_class(t);
    int rc = ERR_OK;
    if (cls != want1 && cls != want2)
        rc = err_set(ERR_FORMAT, "%s: attribute %s/%s is not numeric", path, obj, key);
    else if (H5Aread(a, mt, out) < 0)
        rc = err_set(ERR_FORMAT, "%s: cannot read %s/%s", path, obj, key);
    H5Tclose(t);
    H5Aclose(a);
    H5Fclose(f);
    return rc;
}

int h5r_read_attr_i64(const char *path, const char *obj, const char *key, int64_t *out) {
    return read_attr_num(path, obj, key, H5T_NATIVE_INT64, out, H5T_INTEGER, H5T_INTEGER);
}

int h5r_read_attr_f64(const char *path, const char *obj, const char *key, double *out) {
    return read_attr_num(path, obj, key, H5T_NATIVE_DOUBLE, out, H5T_FLOAT, H5T_INTEGER);
}
