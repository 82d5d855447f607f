// Tests for bench/results.c: round trip, append without touching earlier runs, refusal of
// foreign files and unwritable paths.
#include "bench/results.h"
#include "kernels/err.h"

#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tdir[256];

static void mk_tdir(void) {
    snprintf(tdir, sizeof tdir, "/tmp/neuroicl-results-XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
}

static void rm_tdir(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdir);
    (void)!system(cmd);
}

// A run with one table of every column type and attributes of every type.
static void make_run(h5r_run *r, int64_t seed, int rows) {
    h5r_run_init(r);
    h5r_attr_str(r, "task", "omniglot-5w1s");
    h5r_attr_i64(r, "seed", seed);
    h5r_attr_f64(r, "lr", 0.125);
    h5r_table *t = h5r_run_table(r, "episodes");
    cr_assert_not_null(t);
    int ci = h5r_table_col(t, "impl", H5R_STR, 16);
    int ce = h5r_table_col(t, "episode", H5R_I64, 0);
    int cn = h5r_table_col(t, "ns", H5R_F64, 0);
    cr_assert(ci == 0 && ce == 1 && cn == 2);
    for (int i = 0; i < rows; i++) {
        long row = h5r_table_row(t);
        cr_assert_eq(row, i);
        h5r_set_str(t, ci, (size_t)row, i % 2 ? "kv-softmax" : "fw-float");
        h5r_set_i64(t, ce, (size_t)row, seed * 1000 + i);
        h5r_set_f64(t, cn, (size_t)row, 0.5 * i + (double)seed);
    }
}

static void check_run(const char *path, const char *id, int64_t seed, int rows) {
    h5r_table t;
    cr_assert_eq(h5r_read_table(path, id, "episodes", &t), ERR_OK, "%s", err_msg());
    cr_assert_eq(t.n_rows, (size_t)rows);
    cr_assert_eq(t.n_cols, 3);
    int ci = h5r_col_index(&t, "impl"), ce = h5r_col_index(&t, "episode"), cn = h5r_col_index(&t, "ns");
    cr_assert(ci >= 0 && ce >= 0 && cn >= 0);
    cr_assert_eq(t.cols[ci].type, H5R_STR);
    cr_assert_eq(t.cols[ce].type, H5R_I64);
    cr_assert_eq(t.cols[cn].type, H5R_F64);
    for (int i = 0; i < rows; i++) {
        cr_assert_str_eq(t.cols[ci].str + (size_t)i * (size_t)t.cols[ci].str_len,
                         i % 2 ? "kv-softmax" : "fw-float");
        cr_assert_eq(t.cols[ce].i64[i], seed * 1000 + i);
        cr_assert_eq(t.cols[cn].f64[i], 0.5 * i + (double)seed);
    }
    h5r_table_free(&t);
    char obj[160], s[64];
    snprintf(obj, sizeof obj, "/runs/%s", id);
    int64_t v;
    double f;
    cr_assert_eq(h5r_read_attr_str(path, obj, "task", s, sizeof s), ERR_OK, "%s", err_msg());
    cr_assert_str_eq(s, "omniglot-5w1s");
    cr_assert_eq(h5r_read_attr_i64(path, obj, "seed", &v), ERR_OK);
    cr_assert_eq(v, seed);
    cr_assert_eq(h5r_read_attr_f64(path, obj, "lr", &f), ERR_OK);
    cr_assert_eq(f, 0.125);
    cr_assert_eq(h5r_read_attr_str(path, obj, "run_id", s, sizeof s), ERR_OK);
    cr_assert_str_eq(s, id);
}

static int read_file(const char *path, char **buf, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc((size_t)len + 1);
    *n = fread(*buf, 1, (size_t)len, f);
    fclose(f);
    return 0;
}

static int dir_entries(const char *dir) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) { if (fscanf(p, "%d", &n) != 1) n = -1; pclose(p); }
    return n;
}

// Rewrites the root schema_version in place (test setup only; the library never does this).
static int set_schema(const char *path, long long v) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return -1;
    hid_t a = H5Aopen(f, "schema_version", H5P_DEFAULT);
    int64_t x = v;
    herr_t st = H5Awrite(a, H5T_NATIVE_INT64, &x);
    H5Aclose(a);
    H5Fclose(f);
    return st < 0 ? -1 : 0;
}

TestSuite(results, .init = mk_tdir, .fini = rm_tdir);

Test(results, table_basics) {
    h5r_table t;
    cr_assert_eq(h5r_table_init(&t, "x"), ERR_OK);
    int c = h5r_table_col(&t, "v", H5R_F64, 0);
    cr_assert_eq(h5r_table_col(&t, "v", H5R_I64, 0), -1, "duplicate column refused");
    for (int i = 0; i < 200; i++) cr_assert_eq(h5r_table_row(&t), i);
    cr_assert(isnan(t.cols[c].f64[199]), "unset f64 cells are NaN, not 0");
    cr_assert_eq(h5r_table_col(&t, "late", H5R_I64, 0), -1, "columns after rows refused");
    h5r_table_free(&t);
}

Test(results, roundtrip_and_root_attrs) {
    char path[300];
    snprintf(path, sizeof path, "%s/r.h5", tdir);
    h5r_run r;
    make_run(&r, 7, 130);
    cr_assert_eq(h5r_commit(path, &r), ERR_OK, "%s", err_msg());
    cr_assert(strlen(r.run_id) >= 21, "run id '%s'", r.run_id);
    cr_assert_eq(r.run_id[8], 'T');
    cr_assert_eq(r.run_id[15], 'Z');
    check_run(path, r.run_id, 7, 130);

    int64_t sv;
    char s[512];
    cr_assert_eq(h5r_read_attr_i64(path, "/", "schema_version", &sv), ERR_OK);
    cr_assert_eq(sv, 1);
    const char *keys[] = {"neuroicl_version", "git_describe", "created_utc", "host", "cpu_model",
                          "compiler", "cflags", "papi_version", "counters_available"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        cr_assert_eq(h5r_read_attr_str(path, "/", keys[i], s, sizeof s), ERR_OK, "%s", keys[i]);
        cr_assert(s[0], "root attribute %s is empty", keys[i]);
    }
    char **ids;
    int n;
    cr_assert_eq(h5r_list_runs(path, &ids, &n), ERR_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(ids[0], r.run_id);
    free(ids[0]);
    free(ids);
    h5r_table missing;
    cr_assert_eq(h5r_read_table(path, r.run_id, "nope", &missing), ERR_FORMAT);
    cr_assert_eq(dir_entries(tdir), 1, "no temporary left behind");
    cr_assert_eq(h5r_read_attr_i64("/nonexistent/r.h5", "/", "schema_version", &sv), ERR_IO);
    cr_assert_eq(h5r_read_attr_i64(path, "/", "no_such_attr", &sv), ERR_FORMAT);
    h5r_run_free(&r);
}

Test(results, second_commit_appends) {
    char path[300];
    snprintf(path, sizeof path, "%s/r.h5", tdir);
    h5r_run a, b, c;
    make_run(&a, 1, 10);
    make_run(&b, 2, 20);
    make_run(&c, 3, 0);  // empty table is still a valid table
    cr_assert_eq(h5r_commit(path, &a), ERR_OK, "%s", err_msg());
    cr_assert_eq(h5r_commit(path, &b), ERR_OK, "%s", err_msg());
    cr_assert_eq(h5r_commit(path, &c), ERR_OK, "%s", err_msg());
    cr_assert_str_neq(a.run_id, b.run_id);
    cr_assert_str_neq(b.run_id, c.run_id);
    check_run(path, a.run_id, 1, 10);
    check_run(path, b.run_id, 2, 20);
    check_run(path, c.run_id, 3, 0);
    char **ids;
    int n;
    cr_assert_eq(h5r_list_runs(path, &ids, &n), ERR_OK);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(ids[0], a.run_id, "creation order");
    cr_assert_str_eq(ids[2], c.run_id, "latest last");
    h5r_ids_free(ids, n);
    h5r_run_free(&a);
    h5r_run_free(&b);
    h5r_run_free(&c);
}

Test(results, unwritable_path_is_err_io) {
    h5r_run r;
    make_run(&r, 1, 3);
    char path[300];
    snprintf(path, sizeof path, "%s/no/such/dir/r.h5", tdir);
    cr_assert_eq(h5r_commit(path, &r), ERR_IO);
    cr_assert(strstr(err_msg(), path), "message names the file: %s", err_msg());
    cr_assert(strstr(err_msg(), "--out"), "message says what to do: %s", err_msg());
    cr_assert_eq(dir_entries(tdir), 0, "nothing left behind");
    cr_assert_eq(h5r_commit("/proc/neuroicl-x.h5", &r), ERR_IO);
    cr_assert_eq(access("/proc/neuroicl-x.h5", F_OK), -1);
    h5r_run_free(&r);
}

Test(results, foreign_file_refused_unchanged) {
    char path[300];
    snprintf(path, sizeof path, "%s/notes.h5", tdir);
    FILE *f = fopen(path, "wb");
    const char *text = "my precious notes, not HDF5\n";
    fputs(text, f);
    fclose(f);
    h5r_run r;
    make_run(&r, 1, 3);
    cr_assert_eq(h5r_commit(path, &r), ERR_FORMAT);
    cr_assert(strstr(err_msg(), path) && strstr(err_msg(), "choose another --out"), "%s", err_msg());
    cr_assert(strchr(err_msg(), '\n') == NULL, "one line");
    char *buf;
    size_t n;
    cr_assert_eq(read_file(path, &buf, &n), 0);
    cr_assert_eq(n, strlen(text));
    cr_assert_eq(memcmp(buf, text, n), 0);
    free(buf);
    cr_assert_eq(dir_entries(tdir), 1, "no temporary left behind");
    h5r_run_free(&r);
}

Test(results, other_schema_version_refused) {
    char path[300];
    snprintf(path, sizeof path, "%s/v2.h5", tdir);
    h5r_run r;
    make_run(&r, 1, 3);
    cr_assert_eq(h5r_commit(path, &r), ERR_OK, "%s", err_msg());
    cr_assert_eq(set_schema(path, 2), 0);
    char *before, *after;
    size_t nb, na;
    cr_assert_eq(read_file(path, &before, &nb), 0);
    h5r_run r2;
    make_run(&r2, 2, 3);
    cr_assert_eq(h5r_commit(path, &r2), ERR_FORMAT);
    cr_assert(strstr(err_msg(), "schema_version 2"), "%s", err_msg());
    cr_assert_eq(read_file(path, &after, &na), 0);
    cr_assert_eq(na, nb);
    cr_assert_eq(memcmp(before, after, nb), 0, "file unchanged");
    free(before);
    free(after);
    h5r_run_free(&r);
    h5r_run_free(&r2);
}

