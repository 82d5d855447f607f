// emu-bench: argument errors and one tiny run written to a results file and read back.
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench/emu_bench.h"
#include "bench/results.h"
#include "kernels/err.h"

Test(loihi2_bench, bad_arguments_exit_2_with_one_line) {
    char *a1[] = {"emu-bench", "--sizes", "64,x"};
    cr_assert_eq(emu_bench_cmd(3, a1), 2);
    cr_assert(strstr(err_msg(), "--sizes"), "%s", err_msg());
    char *a2[] = {"emu-bench", "--learning", "maybe"};
    cr_assert_eq(emu_bench_cmd(3, a2), 2);
    char *a3[] = {"emu-bench", "--steps"};
    cr_assert_eq(emu_bench_cmd(2, a3), 2);
    char *a4[] = {"emu-bench", "--frobnicate", "1"};
    cr_assert_eq(emu_bench_cmd(3, a4), 2);
    cr_assert(strstr(err_msg(), "--frobnicate"));
}

// stdout (the table emu-bench prints) is captured so it does not mix into the test report.
Test(loihi2_bench, tiny_run_lands_in_the_results_file, .init = cr_redirect_stdout) {
    char dir[] = "/tmp/l2benchXXXXXX";
    cr_assert(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/r.h5", dir);
    char *argv[] = {"emu-bench", "--sizes", "16,32", "--steps", "5", "--repeats", "2", "--out", path};
    cr_assert_eq(emu_bench_cmd(9, argv), 0, "%s", err_msg());
    char **ids;
    int n;
    cr_assert_eq(h5r_list_runs(path, &ids, &n), 0, "%s", err_msg());
    cr_assert_eq(n, 1);
    char obj[200], kind[64];
    snprintf(obj, sizeof obj, "/runs/%s", ids[0]);
    cr_assert_eq(h5r_read_attr_str(path, obj, "kind", kind, sizeof kind), 0, "%s", err_msg());
    cr_assert_str_eq(kind, "emu-bench");
    h5r_table t;
    cr_assert_eq(h5r_read_table(path, ids[0], "emu_bench", &t), 0, "%s", err_msg());
    cr_assert_eq(t.n_rows, 4);   // 2 sizes x learning off/on
    int c_ops = h5r_col_index(&t, "syn_ops"), c_n = h5r_col_index(&t, "n_pre"), c_l = h5r_col_index(&t, "learning");
    cr_assert(c_ops >= 0 && c_n >= 0 && c_l >= 0);
    for (size_t r = 0; r < t.n_rows; r++) {
        int64_t nn = t.cols[c_n].i64[r];
        cr_assert(t.cols[c_ops].i64[r] > 0 && t.cols[c_ops].i64[r] <= 5 * nn * nn);
    }
    h5r_table_free(&t);
    h5r_ids_free(ids, n);
    unlink(path);
    rmdir(dir);
}
