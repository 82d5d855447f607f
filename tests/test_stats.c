// Mann–Whitney U against hand-computed examples (U by counting pairs, exact p by enumerating
// the C(n, n1) equally likely rank sets, normal p from the tie-corrected variance by hand).
#include <criterion/criterion.h>
#include <math.h>
#include "bench/stats.h"

Test(stats, median_odd_even_and_unsorted) {
    double a[] = {5, 1, 3};
    double b[] = {4, 1, 3, 2};
    cr_expect_float_eq(st_median(a, 3), 3.0, 1e-15);
    cr_expect_float_eq(st_median(b, 4), 2.5, 1e-15);
    cr_expect_float_eq(a[0], 5.0, 0);  // input untouched
    cr_expect(isnan(st_median(a, 0)));
}

Test(stats, mwu_exact_complete_separation) {
    // x all below y: U1 = 0 pairs with x > y; of the C(6,3) = 20 rank sets exactly one has
    // U = 0, so P(U <= 0) = 1/20 and the two-sided p = 2/20 = 0.1.
    double x[] = {1, 2, 3}, y[] = {4, 5, 6};
    st_mwu_result r;
    cr_assert_eq(st_mann_whitney(x, 3, y, 3, ST_MWU_AUTO, &r), 0);
    cr_expect(r.exact);
    cr_expect_float_eq(r.u1, 0.0, 0);
    cr_expect_float_eq(r.u2, 9.0, 0);
    cr_expect_float_eq(r.p, 0.1, 1e-12);
}

Test(stats, mwu_exact_interleaved) {
    // x = {1,3,5}, y = {2,4,6,8}: pairs x > y: 3>2, 5>2, 5>4 -> U1 = 3, U2 = 9.
    // Rank sets with U <= 3 for (3, 4): partitions of 0,1,2,3 into <= 3 parts <= 4:
    // 1 + 1 + 2 + 3 = 7 of C(7,3) = 35 -> p = 2 * 7/35 = 0.4.
    double x[] = {1, 3, 5}, y[] = {2, 4, 6, 8};
    st_mwu_result r;
    cr_assert_eq(st_mann_whitney(x, 3, y, 4, ST_MWU_AUTO, &r), 0);
    cr_expect(r.exact);
    cr_expect_float_eq(r.u1, 3.0, 0);
    cr_expect_float_eq(r.p, 0.4, 1e-12);
    // swapping the samples swaps U1 and U2 and keeps p
    st_mwu_result s;
    cr_assert_eq(st_mann_whitney(y, 4, x, 3, ST_MWU_AUTO, &s), 0);
    cr_expect_float_eq(s.u1, 9.0, 0);
    cr_expect_float_eq(s.p, r.p, 1e-15);
}

Test(stats, mwu_normal_with_ties) {
    // x = {1,2,2,3}, y = {2,3,4,5}. Pooled ranks: 1 -> 1; the three 2s -> 3; the two 3s -> 5.5;
    // 4 -> 7; 5 -> 8. R1 = 1 + 3 + 3 + 5.5 = 12.5, U1 = 12.5 - 4*5/2 = 2.5.
    // Ties t = 3 and t = 2: sum(t^3 - t) = 24 + 6 = 30. n = 8:
    // sigma^2 = 16/12 * (9 - 30/56) = 11.285714..., sigma = 3.3594217189442417
    // z = (|2.5 - 8| - 0.5) / sigma = 1.4883513944689681, p = erfc(z / sqrt 2) = 0.136658247738...
    double x[] = {1, 2, 2, 3}, y[] = {2, 3, 4, 5};
    st_mwu_result r;
    cr_assert_eq(st_mann_whitney(x, 4, y, 4, ST_MWU_AUTO, &r), 0);
    cr_expect(r.ties);
    cr_expect(!r.exact, "ties: the exact distribution does not apply");
    cr_expect_float_eq(r.u1, 2.5, 0);
    cr_expect_float_eq(r.z, 1.4883513944689681, 1e-12);
    cr_expect_float_eq(r.p, 0.13665824773814753, 1e-12);
}

Test(stats, mwu_normal_forced_no_ties) {
    // x = 1..10, y = 11..20: U1 = 0, mu = 50, sigma^2 = 100 * 21 / 12 = 175,
    // z = 49.5 / sqrt(175) = 3.7418482827913495, p = 1.826717911095504e-4.
    double x[10], y[10];
    for (int i = 0; i < 10; i++) { x[i] = i + 1; y[i] = i + 11; }
    st_mwu_result r;
    cr_assert_eq(st_mann_whitney(x, 10, y, 10, ST_MWU_NORMAL, &r), 0);
    cr_expect(!r.exact);
    cr_expect_float_eq(r.z, 3.7418482827913495, 1e-12);
    cr_expect_float_eq(r.p, 1.826717911095504e-4, 1e-15);
    // exact for the same data: one rank set of C(20,10) = 184756 has U = 0 -> p = 2/184756
    cr_assert_eq(st_mann_whitney(x, 10, y, 10, ST_MWU_EXACT, &r), 0);
    cr_expect(r.exact);
    cr_expect_float_eq(r.p, 2.0 / 184756.0, 1e-15);
}

Test(stats, mwu_all_tied_and_empty) {
    double x[] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7}, y[] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    st_mwu_result r;
    cr_assert_eq(st_mann_whitney(x, 10, y, 10, ST_MWU_AUTO, &r), 0);
    cr_expect_float_eq(r.p, 1.0, 0);
    cr_expect_float_eq(r.u1, 50.0, 0);
    cr_expect_eq(st_mann_whitney(x, 0, y, 10, ST_MWU_AUTO, &r), -1);
    cr_expect(isnan(r.p));
}

Test(stats, mwu_identical_samples_p_one) {
    double x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    st_mwu_result r;
    cr_assert_eq(st_mann_whitney(x, 9, y, 9, ST_MWU_AUTO, &r), 0);
    cr_expect_float_eq(r.u1, 40.5, 0);  // n1 n2 / 2
    cr_expect_float_eq(r.p, 1.0, 1e-12);
}
