// Loihi 2 emulator: the learning-rule parser — what it builds and how it refuses bad rules.
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "kernels/err.h"
#include "kernels/loihi2/loihi2.h"

static l2_rule parse_ok(const char *text) {
    l2_rule r;
    cr_assert_eq(l2_rule_parse(&r, text), 0, "%s: %s", text, err_msg());
    return r;
}

Test(loihi2_rule, stdp_example) {
    l2_rule r = parse_ok("dw = -2*x0*y1 + 2*y0*x1");
    cr_assert(r.present[L2_TGT_W] && !r.present[L2_TGT_D] && !r.present[L2_TGT_T]);
    cr_assert_eq(r.n_products[L2_TGT_W], 2);
    const l2_product *a = &r.p[L2_TGT_W][0], *b = &r.p[L2_TGT_W][1];
    cr_assert_eq(a->dep, L2_DEP_X0);
    cr_assert_eq(a->mant, -2);
    cr_assert_eq(a->exp, 0);
    cr_assert_eq(a->n_factors, 1);
    cr_assert_eq(a->f[0].var, L2_F_Y1);
    cr_assert_eq(b->dep, L2_DEP_Y0);
    cr_assert_eq(b->mant, 2);
    cr_assert_eq(b->f[0].var, L2_F_X1);
    cr_assert_eq(r.decimate_k, -1);
}

Test(loihi2_rule, outer_product_with_decay_and_scales) {
    l2_rule r = parse_ok("dw = 2^-2*u0*x1*y2 - 2^-7*u0*w");
    cr_assert_eq(r.n_products[L2_TGT_W], 2);
    cr_assert_eq(r.p[0][0].dep, L2_DEP_U);
    cr_assert_eq(r.p[0][0].mant, 1);
    cr_assert_eq(r.p[0][0].exp, -2);
    cr_assert_eq(r.p[0][0].n_factors, 2);
    cr_assert_eq(r.p[0][1].mant, -1);
    cr_assert_eq(r.p[0][1].exp, -7);
    cr_assert_eq(r.p[0][1].f[0].var, L2_F_W);
    cr_assert_eq(r.decimate_k, 0);
    r = parse_ok("dw = 3*2^-4 * u3 * t * y2");
    cr_assert_eq(r.p[0][0].mant, 3);
    cr_assert_eq(r.p[0][0].exp, -4);
    cr_assert_eq(r.decimate_k, 3);
}

Test(loihi2_rule, even_mantissas_are_halved_into_the_exponent) {
    l2_rule r = parse_ok("dw = 16*x0*y1");   // 16 -> 8*2^1 -> 4*2^2
    cr_assert_eq(r.p[0][0].mant, 4);
    cr_assert_eq(r.p[0][0].exp, 2);
    r = parse_ok("dw = -8*x0");              // -8 fits 4 bits: kept
    cr_assert_eq(r.p[0][0].mant, -8);
    r = parse_ok("dw = 12*2^-3*y0*x1");      // 12 -> 6, exp -2
    cr_assert_eq(r.p[0][0].mant, 6);
    cr_assert_eq(r.p[0][0].exp, -2);
}

Test(loihi2_rule, constants_sgn_and_several_targets) {
    l2_rule r = parse_ok("dw = x0*(y1-3)*sgn(w+2); dd = u0*(5 + x2)\n dt = -y0*(-x1+4)");
    const l2_product *p = &r.p[L2_TGT_W][0];
    cr_assert_eq(p->n_factors, 2);
    cr_assert_eq(p->f[0].var, L2_F_Y1);
    cr_assert_eq(p->f[0].c, -3);
    cr_assert_eq(p->f[1].var, L2_F_W);
    cr_assert_eq(p->f[1].c, 2);
    cr_assert_eq(p->f[1].sgn, 1);
    p = &r.p[L2_TGT_D][0];
    cr_assert_eq(p->f[0].var, L2_F_X2);
    cr_assert_eq(p->f[0].c, 5);
    // -y0*(-x1+4) = -1 * -1 * (x1 - 4): the sign moves into the scale, the constant flips
    p = &r.p[L2_TGT_T][0];
    cr_assert_eq(p->dep, L2_DEP_Y0);
    cr_assert_eq(p->mant, 1);
    cr_assert_eq(p->f[0].var, L2_F_X1);
    cr_assert_eq(p->f[0].c, -4);
    // A second x0 in a product is a factor, the first one the dependency.
    r = parse_ok("dw = x0*x0*y1");
    cr_assert_eq(r.p[0][0].dep, L2_DEP_X0);
    cr_assert_eq(r.p[0][0].f[0].var, L2_F_X0);
}

// Each malformed rule, the position (1-based character) its message must name, and a word of it.
static const struct { const char *rule; int pos; const char *word; } bad[] = {
    {"", 1, "empty"},
    {"dx = x0*y1", 1, "unknown target"},
    {"dw x0*y1", 4, "expected '='"},
    {"dw = x0*q1", 9, "unknown name 'q1'"},
    {"dw = x0*", 9, "expected a term"},
    {"dw = x0*(y1 + 3", 9, "missing closing"},
    {"dw = x0*sgn(x1)", 13, "sgn() takes only w, d or t"},
    {"dw = x1*y1", 6, "no dependency"},
    {"dw = 9*x0", 6, "mantissa"},
    {"dw = 2^-9*x0", 6, "exponent"},
    {"dw = u0*u1*x1", 9, "exactly one dependency"},
    {"dw = 0.5*x0", 7, "integers"},
    {"dw = x0 # y1", 9, "unexpected character"},
    {"dw = x0 ** y1", 10, "expected a variable"},
    {"dw = x0*(x1+300)", 13, "8-bit"},
    {"dw = u0*x1 + u1*y1", 14, "only one uK"},
    {"dw = x0; dw = y0", 10, "twice"},
    {"dw = x0*(w+x1)", 12, "second variable"},
    {"dw = x0*3^2", 9, "powers of 2"},
    {"dw = x0 y1", 9, "expected '+', '-', '*'"},
    {"dw = x0*sgn(-w)", 14, "cannot be negated"},
    {"dw = x0*()", 10, "empty brackets"},
};

Test(loihi2_rule, malformed_rules_name_the_offending_character) {
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        l2_rule r;
        err_clear();
        int rc = l2_rule_parse(&r, bad[k].rule);
        cr_expect_eq(rc, ERR_FORMAT, "rule \"%s\" accepted", bad[k].rule);
        char want[48];
        snprintf(want, sizeof want, "at character %d ", bad[k].pos);
        cr_expect(strstr(err_msg(), want) != NULL, "rule \"%s\": want position %d, got: %s", bad[k].rule, bad[k].pos,
                  err_msg());
        cr_expect(strstr(err_msg(), bad[k].word) != NULL, "rule \"%s\": want '%s' in: %s", bad[k].rule, bad[k].word,
                  err_msg());
        cr_expect(strchr(err_msg(), '\n') == NULL, "message must be one line: %s", err_msg());
    }
}

Test(loihi2_rule, garbage_never_crashes) {
    // Random byte strings and truncations of valid rules: always a clean return.
    const char *good = "dw = 2^-2*u0*x1*y2 - 2^-7*u0*(w+3)*sgn(d-1); dt = y0*x2";
    char buf[128];
    l2_rule r;
    for (size_t n = 0; n <= strlen(good); n++) {
        memcpy(buf, good, n);
        buf[n] = 0;
        int rc = l2_rule_parse(&r, buf);
        cr_assert(rc == 0 || rc == ERR_FORMAT);
    }
    unsigned x = 12345;
    for (int it = 0; it < 2000; it++) {
        int n = 1 + it % 40;
        for (int i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            const char alphabet[] = "dwxyu0123456789+-*^()= ;sgnt.#\n";
            buf[i] = alphabet[(x >> 16) % (sizeof alphabet - 1)];
        }
        buf[n] = 0;
        int rc = l2_rule_parse(&r, buf);
        cr_assert(rc == 0 || rc == ERR_FORMAT, "rc %d for %s", rc, buf);
    }
    cr_assert_eq(l2_rule_parse(&r, NULL), ERR_FORMAT);
}
