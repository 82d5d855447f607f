// Tests for bench/stream.c: counted bytes follow the stated convention, options are checked,
// results go to a "stream" table with one row per kernel.
#include "bench/results.h"
#include "bench/stream.h"
#include "kernels/err.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

Test(stream, small_arrays_counted_bytes) {
    stream_options o = {.array_bytes = 1u << 20, .ntimes = 3, .threads = 1};
    stream_result r;
    cr_assert_eq(stream_run(&o, &r), ERR_OK, "%s", err_msg());
    cr_assert_eq(r.n, (1u << 20) / 8);
    const double rw[STREAM_NK] = {16, 16, 24, 24}, wa[STREAM_NK] = {24, 24, 32, 32};
    for (int k = 0; k < STREAM_NK; k++) {
        cr_assert_eq(r.bytes[k], rw[k] * r.n, "%s", stream_kernel_names[k]);
        cr_assert_eq(r.bytes_wa[k], wa[k] * r.n, "%s", stream_kernel_names[k]);
        cr_assert(isfinite(r.gbs[k]) && r.gbs[k] > 0, "%s %g", stream_kernel_names[k], r.gbs[k]);
        cr_assert(r.best_s[k] <= r.avg_s[k] * (1 + 1e-12) && r.avg_s[k] <= r.max_s[k] * (1 + 1e-12));
        cr_assert_float_eq(r.gbs_wa[k] / r.gbs[k], wa[k] / rw[k], 1e-12);
    }
}

Test(stream, llc_reported) {
    size_t llc = stream_llc_bytes();
    cr_assert_gt(llc, 0, "sysfs reports a cache size on Linux");
}

Test(stream, bad_options) {
    stream_result r;
    stream_options o = {.array_bytes = 1u << 20, .ntimes = 1, .threads = 1};
    cr_assert_eq(stream_run(&o, &r), ERR_ARG);
    o.ntimes = 3;
    o.threads = 0;
    cr_assert_eq(stream_run(&o, &r), ERR_ARG);
    o.threads = 1;
    o.array_bytes = 100;
    cr_assert_eq(stream_run(&o, &r), ERR_ARG);
}

Test(stream, table_rows) {
    stream_options o = {.array_bytes = 256u << 10, .ntimes = 2, .threads = 2};
    stream_result r;
    cr_assert_eq(stream_run(&o, &r), ERR_OK, "%s", err_msg());
    h5r_run run;
    h5r_run_init(&run);
    cr_assert_eq(stream_add_table(&r, "probe-2t", &run), ERR_OK);
    cr_assert_eq(stream_add_table(&r, "again", &run), ERR_OK);
    cr_assert_eq(run.n_tables, 1, "both go to one table");
    h5r_table *t = run.tables[0];
    cr_assert_str_eq(t->name, "stream");
    cr_assert_eq(t->n_rows, 8);
    int ck = h5r_col_index(t, "kernel"), cg = h5r_col_index(t, "gbs"), cl = h5r_col_index(t, "label");
    cr_assert(ck >= 0 && cg >= 0 && cl >= 0);
    cr_assert_str_eq(t->cols[ck].str + 3 * t->cols[ck].str_len, "triad");
    cr_assert_str_eq(t->cols[cl].str + 4 * t->cols[cl].str_len, "again");
    cr_assert(t->cols[cg].f64[3] > 0);
    h5r_run_free(&run);
}
