// The learning-rule language: "dw = 2^-2*u0*x1*y2 - 2^-7*u0*w; dt = ..." parsed into sums of
// products S * D * prod(F). Our own recursive-descent parser over the grammar
//
//   text    := eq { (';' | newline) eq } [';']
//   eq      := ('dw' | 'dd' | 'dt') '=' [sign] product { sign product }
//   product := atom { '*' atom }
//   atom    := literal | name | '(' inner ')' | 'sgn' '(' inner ')'
//   literal := int | '2' '^' [sign] int
//   inner   := [sign] (literal | name) [sign (literal | name)]    one of them a name, or a lone literal
//
// with the meaning of Lava's product_series.py: every literal of a product multiplies into its
// scale (mantissa * 2^exp); the first x0 / y0 / uK of a product is its dependency and later
// x0 / y0 are factors; (var + C) is a factor with a constant; sgn() only takes w, d, t.
// Every error names the 1-based character position of the offending token.
#include "kernels/loihi2/internal.h"
#include "kernels/err.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef enum { T_END, T_NUM, T_NAME, T_OP, T_SEP } tok_kind;

typedef struct {
    tok_kind kind;
    int pos;          // 0-based offset in text
    int len;
    long num;         // T_NUM
    char op;          // T_OP: + - * ^ ( ) =
} tok;

typedef struct {
    const char *s;
    int i;            // scan position
    tok t;            // current token
    int err;
} parser;

static int perr(parser *p, int pos, const char *fmt, const char *what) {
    char msg[160];
    snprintf(msg, sizeof msg, fmt, what);
    int n = (int)strlen(p->s);
    int show = n > 100 ? 100 : n;
    p->err = err_set(ERR_FORMAT, "rule: %s at character %d in \"%.*s%s\"", msg, pos + 1, show, p->s,
                     n > show ? "..." : "");
    return p->err;
}

static int tok_err(parser *p, const char *fmt) {
    char what[48];
    if (p->t.kind == T_END) snprintf(what, sizeof what, "end of rule");
    else if (p->t.kind == T_SEP) snprintf(what, sizeof what, "';'");
    else snprintf(what, sizeof what, "'%.*s'", p->t.len > 20 ? 20 : p->t.len, p->s + p->t.pos);
    return perr(p, p->t.pos, fmt, what);
}

static int next(parser *p) {
    const char *s = p->s;
    while (s[p->i] == ' ' || s[p->i] == '\t' || s[p->i] == '\r') p->i++;
    tok t = {0};
    t.pos = p->i;
    char c = s[p->i];
    if (c == 0) {
        t.kind = T_END;
    } else if (c == ';' || c == '\n') {
        t.kind = T_SEP;
        t.len = 1;
        p->i++;
    } else if (isdigit((unsigned char)c)) {
        long v = 0;
        int j = p->i;
        while (isdigit((unsigned char)s[j])) {
            if (v < 100000000) v = v * 10 + (s[j] - '0');
            j++;
        }
        if (s[j] == '.' || s[j] == 'e' || s[j] == 'E') {
            p->t = (tok){T_NUM, p->i, j + 1 - p->i, 0, 0};
            return perr(p, j, "%s: constants must be integers (use m*2^e for fractions)", "decimal number");
        }
        t.kind = T_NUM;
        t.num = v;
        t.len = j - p->i;
        p->i = j;
    } else if (isalpha((unsigned char)c) || c == '_') {
        int j = p->i;
        while (isalnum((unsigned char)s[j]) || s[j] == '_') j++;
        t.kind = T_NAME;
        t.len = j - p->i;
        p->i = j;
    } else if (strchr("+-*^()=", c)) {
        t.kind = T_OP;
        t.op = c;
        t.len = 1;
        p->i++;
    } else {
        char what[8];
        snprintf(what, sizeof what, "'%c'", isprint((unsigned char)c) ? c : '?');
        p->t = (tok){T_OP, p->i, 1, 0, c};
        return perr(p, p->i, "unexpected character %s", what);
    }
    p->t = t;
    return 0;
}

static int is_op(const parser *p, char op) { return p->t.kind == T_OP && p->t.op == op; }
static int name_is(const parser *p, const char *w) {
    return p->t.kind == T_NAME && (int)strlen(w) == p->t.len && !strncmp(p->s + p->t.pos, w, p->t.len);
}

// What a name means. Returns 0 for unknown.
enum { N_NONE, N_DEP_X0, N_DEP_Y0, N_U, N_VAR, N_SGN };
static int classify(const parser *p, l2_fvar *var, int *k) {
    if (p->t.kind != T_NAME) return N_NONE;
    const char *s = p->s + p->t.pos;
    int n = p->t.len;
    if (n == 2 && s[0] == 'x' && s[1] == '0') { *var = L2_F_X0; return N_DEP_X0; }
    if (n == 2 && s[0] == 'y' && s[1] == '0') { *var = L2_F_Y0; return N_DEP_Y0; }
    if (n == 2 && s[0] == 'u' && isdigit((unsigned char)s[1])) { *k = s[1] - '0'; return N_U; }
    static const struct { const char *w; l2_fvar v; } vars[] = {
        {"x1", L2_F_X1}, {"x2", L2_F_X2}, {"y1", L2_F_Y1}, {"y2", L2_F_Y2}, {"y3", L2_F_Y3},
        {"w", L2_F_W}, {"d", L2_F_D}, {"t", L2_F_T}};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if ((int)strlen(vars[i].w) == n && !strncmp(s, vars[i].w, n)) { *var = vars[i].v; return N_VAR; }
    if (n == 3 && !strncmp(s, "sgn", 3)) return N_SGN;
    return N_NONE;
}

// literal := int | 2^[sign]int. Current token is T_NUM. Multiplies into (*m, *e).
static int literal(parser *p, long *m, int *e) {
    long v = p->t.num;
    int pos = p->t.pos;
    if (next(p)) return p->err;
    if (is_op(p, '^')) {
        if (v != 2) return perr(p, pos, "%s: only powers of 2 are allowed (2^e)", "base");
        if (next(p)) return p->err;
        int sign = 1;
        if (is_op(p, '+') || is_op(p, '-')) {
            sign = is_op(p, '-') ? -1 : 1;
            if (next(p)) return p->err;
        }
        if (p->t.kind != T_NUM) return tok_err(p, "expected an integer exponent after '^', found %s");
        if (p->t.num > 64) return tok_err(p, "exponent %s out of range");
        *e += sign * (int)p->t.num;
        return next(p);
    }
    *m *= v;
    if (*m > 1000000 || *m < -1000000) return perr(p, pos, "%s: scale too large", "literal");
    return 0;
}

typedef struct {
    int has_dep;
    l2_product pr;
    long m;
    int e;
    int pos;
} prod_acc;

static int add_factor(parser *p, prod_acc *a, l2_fvar var, long c, int sgn, int pos) {
    if (a->pr.n_factors >= L2_MAX_FACTORS) return perr(p, pos, "%s: more than 6 factors in one product", "factor");
    if (c < -256 || c > 255) return perr(p, pos, "%s: constant outside the 8-bit range -256..255", "factor");
    a->pr.f[a->pr.n_factors++] = (l2_factor){var, (int32_t)c, sgn};
    return 0;
}

static int set_dep(parser *p, prod_acc *a, l2_dep d, int k, int *decimate, int pos) {
    if (d == L2_DEP_U) {
        if (a->has_dep) return perr(p, pos, "%s: a product has exactly one dependency", "second dependency uK");
        if (*decimate >= 0 && *decimate != k)
            return perr(p, pos, "%s: one rule can use only one uK decimation", "different uK");
        *decimate = k;
    }
    a->has_dep = 1;
    a->pr.dep = d;
    return 0;
}

// '(' inner ')' or 'sgn' '(' inner ')': current token is '('.
static int bracket(parser *p, prod_acc *a, int is_sgn, int *decimate) {
    int open = p->t.pos;
    if (next(p)) return p->err;
    // Up to two signed operands.
    int n_ops = 0, n_names = 0;
    int sign[2] = {1, 1}, isname[2] = {0, 0}, pos[2] = {0, 0};
    long lm[2] = {1, 1};
    int le[2] = {0, 0};
    l2_fvar var[2] = {L2_F_C, L2_F_C};
    while (!is_op(p, ')')) {
        if (p->t.kind == T_END || p->t.kind == T_SEP) return perr(p, open, "%s: missing closing ')'", "'('");
        if (n_ops == 2) return tok_err(p, "expected ')' after (var + C), found %s");
        if (is_op(p, '+') || is_op(p, '-')) {
            sign[n_ops] = is_op(p, '-') ? -1 : 1;
            if (next(p)) return p->err;
        } else if (n_ops == 1) {
            return tok_err(p, "expected '+' or '-' inside brackets, found %s");
        }
        pos[n_ops] = p->t.pos;
        if (p->t.kind == T_NUM) {
            if (literal(p, &lm[n_ops], &le[n_ops])) return p->err;
        } else if (p->t.kind == T_NAME) {
            int k = 0;
            int cl = classify(p, &var[n_ops], &k);
            if (cl == N_U) return tok_err(p, "dependency %s cannot appear inside brackets");
            if (cl == N_NONE || cl == N_SGN) return tok_err(p, "unknown variable %s");
            isname[n_ops] = 1;
            n_names++;
            if (next(p)) return p->err;
        } else if (p->t.kind == T_END || p->t.kind == T_SEP) {
            return perr(p, open, "%s: missing closing ')'", "'('");
        } else {
            return tok_err(p, "expected a variable or a constant inside brackets, found %s");
        }
        n_ops++;
    }
    if (n_ops == 0) return tok_err(p, "empty brackets before %s");
    if (n_names > 1) return perr(p, pos[1], "%s: only (variable + constant) is allowed in brackets", "second variable");
    if (n_names == 0 && n_ops == 2) return perr(p, pos[1], "%s: write the sum of constants as one number", "constant + constant");
    if (n_names == 0) {
        if (is_sgn) return perr(p, pos[0], "%s: sgn() takes w, d or t", "constant");
        a->m *= sign[0] * lm[0];   // a lone bracketed literal joins the scale (Lava)
        a->e += le[0];
        return next(p);
    }
    int vi = isname[0] ? 0 : 1, ci = 1 - vi;
    long c = 0;
    if (n_ops == 2) {
        if (le[ci] < 0 || le[ci] > 8) return perr(p, pos[ci], "%s: must be an integer", "constant");
        c = sign[ci] * lm[ci] * (1L << le[ci]);
        if (c < -256 || c > 255) return perr(p, pos[ci], "%s: outside the 8-bit range -256..255", "constant");
    }
    if (is_sgn) {
        if (var[vi] != L2_F_W && var[vi] != L2_F_D && var[vi] != L2_F_T)
            return perr(p, pos[vi], "%s: sgn() takes only w, d or t", "variable");
        if (sign[vi] < 0) return perr(p, pos[vi], "%s: the variable in sgn() cannot be negated", "'-'");
    } else if (sign[vi] < 0) {
        a->m = -a->m;   // -(var + C) = -1 * (var - C): the sign moves into the scale
        c = -c;
    }
    if (add_factor(p, a, var[vi], c, is_sgn, pos[vi])) return p->err;
    (void)decimate;
    return next(p);
}

static int atom(parser *p, prod_acc *a, int *decimate) {
    if (p->t.kind == T_NUM) return literal(p, &a->m, &a->e);
    if (is_op(p, '(')) return bracket(p, a, 0, decimate);
    if (p->t.kind == T_NAME) {
        l2_fvar var;
        int k = 0, pos = p->t.pos;
        int cl = classify(p, &var, &k);
        switch (cl) {
        case N_DEP_X0:
        case N_DEP_Y0:
            if (!a->has_dep) {
                if (set_dep(p, a, cl == N_DEP_X0 ? L2_DEP_X0 : L2_DEP_Y0, 0, decimate, pos)) return p->err;
            } else if (add_factor(p, a, var, 0, 0, pos)) return p->err;
            return next(p);
        case N_U:
            if (set_dep(p, a, L2_DEP_U, k, decimate, pos)) return p->err;
            return next(p);
        case N_VAR:
            if (add_factor(p, a, var, 0, 0, pos)) return p->err;
            return next(p);
        case N_SGN:
            if (next(p)) return p->err;
            if (!is_op(p, '(')) return tok_err(p, "expected '(' after sgn, found %s");
            return bracket(p, a, 1, decimate);
        default:
            return tok_err(p, "unknown name %s (expected x0 x1 x2 y0 y1 y2 y3 u0..u9 w d t sgn)");
        }
    }
    if (p->t.kind == T_END || p->t.kind == T_SEP) return tok_err(p, "expected a term, found %s");
    return tok_err(p, "expected a variable, constant or '(' but found %s");
}

static int product(parser *p, int sign, l2_rule *r, l2_target tg) {
    prod_acc a;
    memset(&a, 0, sizeof a);
    a.m = sign;
    a.pos = p->t.pos;
    for (;;) {
        if (atom(p, &a, &r->decimate_k)) return p->err;
        if (!is_op(p, '*')) break;
        if (next(p)) return p->err;
    }
    if (!a.has_dep) return perr(p, a.pos, "%s: no dependency (x0, y0 or u0..u9)", "product");
    // Lava: even mantissas beyond 4 bits are halved while the exponent can grow.
    while ((a.m > 7 || a.m < -8) && a.m % 2 == 0 && a.e < 8) {
        a.m /= 2;
        a.e++;
    }
    if (a.m < -8 || a.m > 7)
        return perr(p, a.pos, "%s: scale mantissa not representable in 4 bits (-8..7) times 2^e", "product");
    if (a.e < -7 || a.e > 8) return perr(p, a.pos, "%s: scale exponent outside -7..8", "product");
    if (r->n_products[tg] >= L2_MAX_PRODUCTS) return perr(p, a.pos, "%s: more than 16 products", "product");
    a.pr.mant = (int)a.m;
    a.pr.exp = a.e;
    r->p[tg][r->n_products[tg]++] = a.pr;
    return 0;
}

static int equation(parser *p, l2_rule *r) {
    l2_target tg;
    if (name_is(p, "dw")) tg = L2_TGT_W;
    else if (name_is(p, "dd")) tg = L2_TGT_D;
    else if (name_is(p, "dt")) tg = L2_TGT_T;
    else if (p->t.kind == T_END || p->t.kind == T_SEP) return tok_err(p, "expected dw, dd or dt, found %s");
    else return tok_err(p, "unknown target %s (expected dw, dd or dt)");
    if (r->present[tg]) return tok_err(p, "target %s defined twice");
    r->present[tg] = 1;
    if (next(p)) return p->err;
    if (!is_op(p, '=')) return tok_err(p, "expected '=' after the target, found %s");
    if (next(p)) return p->err;
    int sign = 1;
    if (is_op(p, '+') || is_op(p, '-')) {
        sign = is_op(p, '-') ? -1 : 1;
        if (next(p)) return p->err;
    }
    for (;;) {
        if (product(p, sign, r, tg)) return p->err;
        if (is_op(p, '+') || is_op(p, '-')) {
            sign = is_op(p, '-') ? -1 : 1;
            if (next(p)) return p->err;
            continue;
        }
        if (p->t.kind == T_END || p->t.kind == T_SEP) return 0;
        return tok_err(p, "expected '+', '-', '*' or the end of the equation, found %s");
    }
}

int l2_rule_parse(l2_rule *rule, const char *text) {
    if (!rule) return err_set(ERR_ARG, "rule: NULL output");
    memset(rule, 0, sizeof *rule);
    rule->decimate_k = -1;
    if (!text) return err_set(ERR_FORMAT, "rule: no text");
    parser p = {text, 0, {0}, 0};
    if (next(&p)) return p.err;
    int n_eq = 0;
    for (;;) {
        while (p.t.kind == T_SEP)
            if (next(&p)) return p.err;
        if (p.t.kind == T_END) break;
        if (equation(&p, rule)) return p.err;
        n_eq++;
    }
    if (n_eq == 0) return perr(&p, 0, "%s: expected dw, dd or dt", "empty rule");
    return 0;
}
