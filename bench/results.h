// results (h5r_) — the results HDF5 file, schema v1 (reports/SCHEMA.md). A run is built in
// memory and committed in one step: the existing file is copied to a temporary beside it,
// the new /runs/<run_id> group is added to the copy, the copy is fsync'ed and renamed over
// the original. A crash or Ctrl-C at any point leaves the old file (and all its runs) intact.
#ifndef NEUROICL_RESULTS_H
#define NEUROICL_RESULTS_H
#include <stddef.h>
#include <stdint.h>

#define H5R_SCHEMA_VERSION 1

typedef enum { H5R_I64, H5R_F64, H5R_STR } h5r_type;

// A column-oriented table written as one compound dataset. Strings are fixed-length
// (str_len bytes including NUL) in the file.
typedef struct {
    char name[64];
    h5r_type type;
    int str_len;       // for H5R_STR
    int64_t *i64;      // (cap) when type == H5R_I64
    double *f64;       // (cap) when type == H5R_F64
    char *str;         // (cap, str_len) when type == H5R_STR
} h5r_column;

typedef struct {
    char name[64];
    int n_cols, cap_cols;
    h5r_column *cols;  // (n_cols)
    size_t n_rows, cap_rows;
} h5r_table;

int h5r_table_init(h5r_table *t, const char *name);
// Adds a column (before any row is added). Returns its index or -1 (err set).
int h5r_table_col(h5r_table *t, const char *name, h5r_type type, int str_len);
// Appends an empty row (zeros / empty strings; NaN for F64) and returns its index, or -1.
long h5r_table_row(h5r_table *t);
void h5r_set_i64(h5r_table *t, int col, size_t row, int64_t v);
void h5r_set_f64(h5r_table *t, int col, size_t row, double v);
void h5r_set_str(h5r_table *t, int col, size_t row, const char *v);
void h5r_table_free(h5r_table *t);

typedef enum { H5R_ATTR_STR, H5R_ATTR_I64, H5R_ATTR_F64 } h5r_attr_type;
typedef struct {
    char key[64];
    h5r_attr_type type;
    char *s;       // owned copy, H5R_ATTR_STR
    int64_t i;
    double f;
} h5r_attr;

typedef struct {
    char run_id[96];       // unique within the file: <UTC time>-<impl hash>-<n>; set at commit
    int n_attrs, cap_attrs;
    h5r_attr *attrs;
    int n_tables, cap_tables;
    h5r_table **tables;    // (n_tables) owned
} h5r_run;

void h5r_run_init(h5r_run *r);
void h5r_attr_str(h5r_run *r, const char *key, const char *v);
void h5r_attr_i64(h5r_run *r, const char *key, int64_t v);
void h5r_attr_f64(h5r_run *r, const char *key, double v);
// An int64 attribute already set on the run (in memory); ERR_ARG when absent.
int h5r_run_get_i64(const h5r_run *r, const char *key, int64_t *out);
// Creates a table owned by the run.
h5r_table *h5r_run_table(h5r_run *r, const char *name);
void h5r_run_free(h5r_run *r);

// Appends `run` as /runs/<run_id> to `path` (created, with the root provenance attributes,
// when missing). An existing file with another schema_version, or not HDF5, is an error and
// is left untouched. Unwritable directory -> ERR_IO naming the path. Sets r->run_id.
int h5r_commit(const char *path, h5r_run *r);
// Checks up front, before any work, that h5r_commit(path) can succeed: an existing file must
// be a schema-v1 results file, and its directory must accept new files. Changes nothing.
int h5r_check_writable(const char *path);

// Reading back (for report, compare, tests).
int h5r_list_runs(const char *path, char ***ids, int *n);  // release with h5r_ids_free
void h5r_ids_free(char **ids, int n);
int h5r_read_table(const char *path, const char *run_id, const char *name, h5r_table *out);
int h5r_read_attr_str(const char *path, const char *obj, const char *key, char *out, size_t n);
int h5r_read_attr_i64(const char *path, const char *obj, const char *key, int64_t *out);
int h5r_read_attr_f64(const char *path, const char *obj, const char *key, double *out);
int h5r_col_index(const h5r_table *t, const char *name);  // -1 if absent

#endif
