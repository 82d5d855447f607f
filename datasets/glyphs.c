// Procedural stroke glyphs: the built-in stand-in for Omniglot. A class is a small stroke
// program (2-4 strokes, each straight or curved through random control points); a sample
// is that program redrawn by a "hand" with control-point noise, a small affine distortion
// and varying pen width, rendered anti-aliased into 28x28 (1 = ink).
#include "datasets/dataset.h"
#include "kernels/err.h"
#include "kernels/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STROKES 4
#define MAX_PTS 4
#define SEGS_PER_CURVE 12
#define CLASSES_PER_ALPHABET 20

typedef struct {
    int n_strokes;
    int n_pts[MAX_STROKES];              // control points per stroke, 2..4
    int curved[MAX_STROKES];             // 1: Bezier through the control points, 0: polyline
    float pt[MAX_STROKES][MAX_PTS][2];   // (stroke, point, xy) in the unit square
    float half_width;                    // pen half-width in pixels, the class's "pen"
} glyph_prog;

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

static void make_prog(uint64_t seed, int cls, glyph_prog *g) {
    rng_t r;
    rng_seed2(&r, seed, (uint64_t)cls);
    memset(g, 0, sizeof *g);
    g->n_strokes = 2 + (int)rng_below(&r, 3);
    g->half_width = 0.55f + 0.35f * rng_uniform(&r);
    for (int s = 0; s < g->n_strokes; s++) {
        g->n_pts[s] = 2 + (int)rng_below(&r, 3);
        // A lone segment is always straight; longer strokes are curves two times in three.
        g->curved[s] = g->n_pts[s] > 2 && rng_below(&r, 3) != 0;
        for (int p = 0; p < g->n_pts[s]; p++) {
            g->pt[s][p][0] = 0.2f + 0.6f * rng_uniform(&r);
            g->pt[s][p][1] = 0.2f + 0.6f * rng_uniform(&r);
        }
        // Real characters are mostly connected: later strokes often start on an earlier one.
        if (s > 0 && rng_below(&r, 2)) {
            int os = (int)rng_below(&r, (uint32_t)s), op = (int)rng_below(&r, (uint32_t)g->n_pts[os]);
            g->pt[s][0][0] = g->pt[os][op][0];
            g->pt[s][0][1] = g->pt[os][op][1];
        }
        // Very short strokes read as dots and make classes hard to tell apart: stretch them.
        float dx = g->pt[s][g->n_pts[s] - 1][0] - g->pt[s][0][0];
        float dy = g->pt[s][g->n_pts[s] - 1][1] - g->pt[s][0][1];
        if (dx * dx + dy * dy < 0.09f) {
            float ang = 6.2831853f * rng_uniform(&r);
            g->pt[s][g->n_pts[s] - 1][0] = clampf(g->pt[s][0][0] + 0.4f * cosf(ang), 0.1f, 0.9f);
            g->pt[s][g->n_pts[s] - 1][1] = clampf(g->pt[s][0][1] + 0.4f * sinf(ang), 0.1f, 0.9f);
        }
    }
}

// Bezier of degree n-1 (n = 2..4) by de Casteljau.
static void bezier(const float (*p)[2], int n, float t, float *x, float *y) {
    float q[MAX_PTS][2];
    memcpy(q, p, sizeof(float) * 2 * n);
    for (int k = n - 1; k > 0; k--)
        for (int i = 0; i < k; i++) {
            q[i][0] += t * (q[i + 1][0] - q[i][0]);
            q[i][1] += t * (q[i + 1][1] - q[i][1]);
        }
    *x = q[0][0];
    *y = q[0][1];
}

// Coverage of a round-capped segment of half-width hw: 1 inside, a one-pixel linear ramp
// at the edge (cheap anti-aliasing), max-combined so crossing strokes do not exceed 1.
static void draw_segment(float *img, float ax, float ay, float bx, float by, float hw) {
    int x0 = (int)floorf(fminf(ax, bx) - hw - 1), x1 = (int)ceilf(fmaxf(ax, bx) + hw + 1);
    int y0 = (int)floorf(fminf(ay, by) - hw - 1), y1 = (int)ceilf(fmaxf(ay, by) + hw + 1);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > DS_SIDE - 1) x1 = DS_SIDE - 1;
    if (y1 > DS_SIDE - 1) y1 = DS_SIDE - 1;
    float vx = bx - ax, vy = by - ay, len2 = vx * vx + vy * vy;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            float px = x + 0.5f - ax, py = y + 0.5f - ay;
            float t = len2 > 0 ? clampf((px * vx + py * vy) / len2, 0, 1) : 0;
            float dx = px - t * vx, dy = py - t * vy;
            float cov = clampf(hw + 0.5f - sqrtf(dx * dx + dy * dy), 0, 1);
            if (cov > img[y * DS_SIDE + x]) img[y * DS_SIDE + x] = cov;
        }
}

static void draw_sample(const glyph_prog *g, rng_t *r, float *img) {
    memset(img, 0, sizeof(float) * DS_PIX);
    // The hand's distortion: rotation, anisotropic scale, shear, shift about the centre.
    float rot = 0.12f * rng_normal(r), sx = 1 + 0.07f * rng_normal(r), sy = 1 + 0.07f * rng_normal(r);
    float sh = 0.05f * rng_normal(r), tx = 0.04f * rng_normal(r), ty = 0.04f * rng_normal(r);
    float c = cosf(rot), s = sinf(rot);
    float a00 = c * sx, a01 = -s * sy + sh * c * sx, a10 = s * sx, a11 = c * sy + sh * s * sx;
    float hw = g->half_width * clampf(1 + 0.12f * rng_normal(r), 0.6f, 1.5f);
    for (int k = 0; k < g->n_strokes; k++) {
        float p[MAX_PTS][2];  // (point, xy) jittered control points in pixels
        for (int i = 0; i < g->n_pts[k]; i++) {
            float ux = g->pt[k][i][0] + 0.025f * rng_normal(r) - 0.5f;
            float uy = g->pt[k][i][1] + 0.025f * rng_normal(r) - 0.5f;
            p[i][0] = (a00 * ux + a01 * uy + 0.5f + tx) * DS_SIDE;
            p[i][1] = (a10 * ux + a11 * uy + 0.5f + ty) * DS_SIDE;
        }
        if (!g->curved[k]) {
            for (int i = 0; i + 1 < g->n_pts[k]; i++) draw_segment(img, p[i][0], p[i][1], p[i + 1][0], p[i + 1][1], hw);
            continue;
        }
        float px = p[0][0], py = p[0][1];
        for (int j = 1; j <= SEGS_PER_CURVE; j++) {
            float qx, qy;
            bezier((const float (*)[2])p, g->n_pts[k], (float)j / SEGS_PER_CURVE, &qx, &qy);
            draw_segment(img, px, py, qx, qy, hw);
            px = qx, py = qy;
        }
    }
}

int ds_glyphs_make(uint64_t seed, int n_classes, int per_class, ds_set *out) {
    memset(out, 0, sizeof *out);
    if (n_classes < 1 || per_class < 1 || (long long)n_classes * per_class > (1 << 26))
        return err_set(ERR_ARG, "glyphs: need 1 <= n_classes, 1 <= per_class and at most 2^26 images (got %d x %d)",
                       n_classes, per_class);
    int n = n_classes * per_class, na = (n_classes + CLASSES_PER_ALPHABET - 1) / CLASSES_PER_ALPHABET;
    out->n_classes = n_classes, out->n_images = n, out->n_alphabets = na;
    out->pixels = malloc(sizeof(float) * DS_PIX * (size_t)n);
    out->class_start = malloc(sizeof(int) * (n_classes + 1));
    out->class_alphabet = malloc(sizeof(int) * n_classes);
    out->alphabet = calloc(na, sizeof(char *));
    int bad = !out->pixels || !out->class_start || !out->class_alphabet || !out->alphabet;
    for (int a = 0; !bad && a < na; a++) {
        out->alphabet[a] = malloc(24);
        if (!out->alphabet[a]) bad = 1;
        else snprintf(out->alphabet[a], 24, "glyphs-%02d", a);
    }
    if (bad) {
        ds_free(out);
        return err_set(ERR_NOMEM, "glyphs: out of memory for %d images", n);
    }
    for (int c = 0; c <= n_classes; c++) out->class_start[c] = c * per_class;
    for (int c = 0; c < n_classes; c++) out->class_alphabet[c] = c / CLASSES_PER_ALPHABET;
    snprintf(out->source, sizeof out->source, "glyphs:seed=%llu", (unsigned long long)seed);
#pragma omp parallel for schedule(dynamic, 4)
    for (int c = 0; c < n_classes; c++) {
        glyph_prog g;
        make_prog(seed, c, &g);
        for (int k = 0; k < per_class; k++) {
            rng_t r;
            // Top bit set keeps drawing streams apart from the class-program streams.
            rng_seed2(&r, seed, (1ULL << 63) | ((uint64_t)c << 28) | (uint64_t)k);
            draw_sample(&g, &r, out->pixels + ((size_t)c * per_class + k) * DS_PIX);
        }
    }
    return 0;
}
