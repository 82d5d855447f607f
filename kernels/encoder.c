// encoder — conv 3x3 (pad 1) -> ReLU -> max-pool 2x2 blocks, forward and exact backward.
//
// Internal layout is channel-last (HWC): with the channel axis innermost, every output pixel
// is a dot product of three contiguous input runs (one per kernel row, 3*c_in floats each)
// against the weights, and the output-channel loop can be the innermost, vectorised one.
// The public weight layout stays (c_out, c_in, 3, 3) as encoder.h promises; each call
// transposes it once per call (~65k floats for the default config) rather than per image.
//
// Saved activations, per image, block by block (i = 0 .. n_blocks-1; s = side before block
// i, p = s/2 the side after its pool, cin/cout its channels):
//   pin  (s+2, s+2, cin)  the block input zero-padded by 1 (block 0: the padded image); the
//                         backward reads its 3x3 windows for dL/dW.
//   relu (s, s, cout)     conv + bias after ReLU (pre-pool); > 0 marks where ReLU passes.
//   arg  (p, p, cout)     for each pooled output, the pixel index y*s+x of the chosen max
//                         inside relu, stored as a float (exact while s*s < 2^24).
// then once at the end:
//   top  (p, p, c_last)   the last block's pooled output, HWC (`out` holds it in the public
//                         (c, y, x) order, flattened as encoder.h specifies).
// The pooled output of block i < n_blocks-1 is the interior of block i+1's pin.
#include "kernels/encoder.h"
#include "kernels/err.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

// Register tile of the forward kernel: PB output pixels x CB output channels; PB pixels share
// each weight load and each pixel value is broadcast across NV vectors. Output channels are
// padded to a multiple of CB in the transposed weights so every config runs this one path.
// The vector width follows the target: 512-bit with AVX-512 (~1.7x the 256-bit forward on a
// Xeon), 256-bit with AVX, else 128-bit — wider-than-native vectors would be split, spill
// the accumulators and change the ABI of vload (-Wpsabi).
#if defined(__AVX512F__)
#define VW 16           // floats per vector
#elif defined(__AVX__)
#define VW 8
#else
#define VW 4
#endif
#define NV 2            // vectors per tile row
#define CB (VW * NV)    // output channels per tile
#define PB 4            // pixels per tile
typedef float vf __attribute__((vector_size(VW * sizeof(float))));
static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }

typedef struct {
    int cin, cout, cp;   // cp = cout rounded up to CB
    int s, p;            // side before / after the pool
    size_t w_off, b_off; // offsets of this block's w and b in the flat parameter buffer
    size_t pin_off, relu_off, arg_off; // offsets in one image's acts
    size_t wt_off;       // offset of this block's transposed weights in the forward workspace
} blk;

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

// Fills per-block geometry; returns the number of blocks, or 0 if the config is unusable
// (a pool would shrink a side to zero, or a field is out of range).
static int plan(const enc_config *c, blk *bk, size_t *n_params, size_t *n_acts, size_t *n_wt) {
    // side <= 4096 keeps pixel indices exact in the float-typed argmax slots.
    if (!c || c->n_blocks < 1 || c->n_blocks > ENC_MAX_BLOCKS || c->side < 2 || c->side > 4096)
        return 0;
    size_t po = 0, ao = 0, wo = 0;
    int s = c->side, cin = 1;
    for (int i = 0; i < c->n_blocks; i++) {
        int cout = c->ch[i];
        if (cout < 1 || s < 2) return 0;
        blk *b = &bk[i];
        b->cin = cin; b->cout = cout; b->cp = round_up(cout, CB);
        b->s = s; b->p = s / 2;
        b->w_off = po; po += (size_t)cout * cin * 9;
        b->b_off = po; po += (size_t)cout;
        b->pin_off = ao; ao += (size_t)(s + 2) * (s + 2) * cin;
        b->relu_off = ao; ao += (size_t)s * s * cout;
        b->arg_off = ao; ao += (size_t)b->p * b->p * cout;
        b->wt_off = wo; wo += (size_t)9 * cin * b->cp + (size_t)b->cp; // Wt (9*cin, cp), bias (cp)
        s = b->p; cin = cout;
    }
    ao += (size_t)bk[c->n_blocks - 1].p * bk[c->n_blocks - 1].p * bk[c->n_blocks - 1].cout; // top
    if (n_params) *n_params = po;
    if (n_acts) *n_acts = ao;
    if (n_wt) *n_wt = wo;
    return c->n_blocks;
}

int enc_d_out(const enc_config *c) {
    blk bk[ENC_MAX_BLOCKS];
    int nb = plan(c, bk, NULL, NULL, NULL);
    if (!nb) return 0;
    return bk[nb - 1].cout * bk[nb - 1].p * bk[nb - 1].p;
}

size_t enc_n_params(const enc_config *c) {
    blk bk[ENC_MAX_BLOCKS];
    size_t n = 0;
    return plan(c, bk, &n, NULL, NULL) ? n : 0;
}

size_t enc_act_floats(const enc_config *c) {
    blk bk[ENC_MAX_BLOCKS];
    size_t n = 0;
    return plan(c, bk, NULL, &n, NULL) ? n : 0;
}

void enc_weights_map(const enc_config *c, float *flat, enc_weights *w) {
    blk bk[ENC_MAX_BLOCKS];
    memset(w, 0, sizeof *w);
    int nb = plan(c, bk, NULL, NULL, NULL);
    for (int i = 0; i < nb; i++) {
        w->w[i] = flat + bk[i].w_off;
        w->b[i] = flat + bk[i].b_off;
    }
}

void enc_init(const enc_config *c, float *flat, rng_t *r) {
    blk bk[ENC_MAX_BLOCKS];
    int nb = plan(c, bk, NULL, NULL, NULL);
    for (int i = 0; i < nb; i++) {
        // He-normal keeps the activation variance roughly constant through ReLU layers.
        float sd = sqrtf(2.0f / (9.0f * (float)bk[i].cin));
        size_t nw = (size_t)bk[i].cout * bk[i].cin * 9;
        for (size_t j = 0; j < nw; j++) flat[bk[i].w_off + j] = sd * rng_normal(r);
        memset(flat + bk[i].b_off, 0, sizeof(float) * (size_t)bk[i].cout);
    }
}

// Weight index of (co, ci, ky, kx) in the public layout, and k = (ky*3+kx)*cin+ci in the
// HWC window order used internally.
static inline size_t w_pub(int co, int ci, int ky, int kx, int cin) {
    return (((size_t)co * cin + ci) * 3 + ky) * 3 + kx;
}

// ---------------------------------------------------------------------------------------
// Forward

// Writes (Wt (9*cin, cp), bias (cp)) for every block: output channel innermost, zero-padded.
static void transpose_fwd(const blk *bk, int nb, const float *flat, float *wt) {
    for (int i = 0; i < nb; i++) {
        const blk *b = &bk[i];
        float *t = wt + b->wt_off;                  // (9*cin, cp)
        float *tb = t + (size_t)9 * b->cin * b->cp; // (cp)
        memset(t, 0, sizeof(float) * ((size_t)9 * b->cin * b->cp + b->cp));
        for (int co = 0; co < b->cout; co++) {
            for (int ci = 0; ci < b->cin; ci++)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        size_t k = (size_t)(ky * 3 + kx) * b->cin + ci;
                        t[k * b->cp + co] = flat[b->w_off + w_pub(co, ci, ky, kx, b->cin)];
                    }
            tb[co] = flat[b->b_off + co];
        }
    }
}

// relu = max(0, conv3x3(pin) + bias) for one image and one block.
// The tile accumulators are GCC vector-extension values so they stay in registers (plain
// float arrays were spilled to the stack on every k step: ~7x slower on the default config).
static void conv_fwd(const blk *b, const float *wt,
                     const float *pin, // (s+2, s+2, cin)
                     float *relu)      // (s, s, cout)
{
    const int s = b->s, cin = b->cin, cout = b->cout, cp = b->cp;
    const int npix = s * s, seg = 3 * cin, rowstride = (s + 2) * cin;
    const float *bias = wt + (size_t)9 * cin * cp;
    for (int q0 = 0; q0 < npix; q0 += PB) {
        // Window start of each pixel in the tile; a short last tile repeats its final pixel
        // so the inner loops keep their constant trip counts (the copies are not stored).
        const float *base[PB];
        for (int p = 0; p < PB; p++) {
            int q = q0 + p < npix ? q0 + p : npix - 1;
            base[p] = pin + ((size_t)(q / s) * (s + 2) + q % s) * cin;
        }
        for (int co0 = 0; co0 < cp; co0 += CB) {
            vf acc[PB][NV];
            for (int v = 0; v < NV; v++) {
                vf bv = vload(bias + co0 + v * VW);
                for (int p = 0; p < PB; p++) acc[p][v] = bv;
            }
            for (int ky = 0; ky < 3; ky++) {
                const float *wk = wt + (size_t)ky * seg * cp + co0; // (seg, cp) rows
                const int ro = ky * rowstride;
                for (int k = 0; k < seg; k++) {
                    const float *wr = wk + (size_t)k * cp;
                    vf wv[NV];
                    for (int v = 0; v < NV; v++) wv[v] = vload(wr + v * VW);
                    for (int p = 0; p < PB; p++) {
                        const float a = base[p][ro + k];
                        for (int v = 0; v < NV; v++) acc[p][v] += a * wv[v];
                    }
                }
            }
            const int nj = cout - co0 < CB ? cout - co0 : CB;
            for (int p = 0; p < PB && q0 + p < npix; p++) {
                float *o = relu + (size_t)(q0 + p) * cout + co0;
                float t[CB];
                for (int v = 0; v < NV; v++) memcpy(t + v * VW, &acc[p][v], sizeof(vf));
                for (int j = 0; j < nj; j++) o[j] = t[j] > 0.0f ? t[j] : 0.0f;
            }
        }
    }
}

// 2x2 max-pool of relu into `dst` (element (y, x, c) at dst[(y*dst_rs + x)*cout + c]) and
// the argmax pixel indices into arg. Ties keep the first pixel in (0,0),(0,1),(1,0),(1,1)
// order; a tie can only happen at 0, where the ReLU blocks the gradient anyway.
static void pool_fwd(const blk *b, const float *relu, float *dst, int dst_rs, float *arg) {
    const int s = b->s, p = b->p, cout = b->cout;
    for (int py = 0; py < p; py++)
        for (int px = 0; px < p; px++) {
            int q[4] = {(2 * py) * s + 2 * px, (2 * py) * s + 2 * px + 1,
                        (2 * py + 1) * s + 2 * px, (2 * py + 1) * s + 2 * px + 1};
            float *d = dst + ((size_t)py * dst_rs + px) * cout;
            float *a = arg + ((size_t)py * p + px) * cout;
            for (int c = 0; c < cout; c++) {
                float m = relu[(size_t)q[0] * cout + c];
                int mi = q[0];
                for (int t = 1; t < 4; t++) {
                    float v = relu[(size_t)q[t] * cout + c];
                    if (v > m) { m = v; mi = q[t]; }
                }
                d[c] = m;
                a[c] = (float)mi;
            }
        }
}

// Zeroes the 1-pixel border of a padded (s+2, s+2, c) map; the interior is overwritten.
static void zero_border(float *pin, int s, int c) {
    const int w = s + 2;
    memset(pin, 0, sizeof(float) * (size_t)w * c);
    memset(pin + (size_t)(s + 1) * w * c, 0, sizeof(float) * (size_t)w * c);
    for (int y = 1; y <= s; y++) {
        memset(pin + (size_t)y * w * c, 0, sizeof(float) * (size_t)c);
        memset(pin + ((size_t)y * w + s + 1) * c, 0, sizeof(float) * (size_t)c);
    }
}

// One image through every block. act: that image's (enc_act_floats) buffer.
static void fwd_image(const blk *bk, int nb, const float *wt,
                      const float *img, // (side*side)
                      float *act,       // (enc_act_floats)
                      float *out)       // (d_out), (c, y, x) order
{
    const int side = bk[0].s;
    float *pin0 = act + bk[0].pin_off; // (side+2, side+2, 1)
    zero_border(pin0, side, 1);
    for (int y = 0; y < side; y++)
        memcpy(pin0 + (size_t)(y + 1) * (side + 2) + 1, img + (size_t)y * side,
               sizeof(float) * (size_t)side);
    for (int i = 0; i < nb; i++) {
        const blk *b = &bk[i];
        float *relu = act + b->relu_off, *arg = act + b->arg_off;
        conv_fwd(b, wt + b->wt_off, act + b->pin_off, relu);
        if (i + 1 < nb) {
            float *nxt = act + bk[i + 1].pin_off; // (p+2, p+2, cout)
            zero_border(nxt, b->p, b->cout);
            pool_fwd(b, relu, nxt + (size_t)(b->p + 2 + 1) * b->cout, b->p + 2, arg);
        } else {
            // Pool HWC into the saved top map, then reorder to the public (c, y, x).
            const int pp = b->p * b->p, cout = b->cout;
            float *top = act + b->arg_off + (size_t)pp * cout; // (p, p, cout)
            pool_fwd(b, relu, top, b->p, arg);
            for (int q = 0; q < pp; q++)
                for (int ch = 0; ch < cout; ch++) out[(size_t)ch * pp + q] = top[(size_t)q * cout + ch];
        }
    }
}

static int n_threads_max(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void enc_forward(const enc_config *c, const float *flat, int B, const float *img, float *acts,
                 float *out) {
    blk bk[ENC_MAX_BLOCKS];
    size_t n_acts = 0, n_wt = 0;
    int nb = plan(c, bk, NULL, &n_acts, &n_wt);
    if (!nb || B <= 0) return;
    const int d_out = enc_d_out(c);
    // One allocation per call (never per image): transposed weights, plus private act
    // buffers for inference when the caller keeps no activations.
    int nt = n_threads_max();
    size_t need = n_wt + (acts ? 0 : (size_t)nt * n_acts);
    float *ws = malloc(sizeof(float) * need);
    if (!ws) {
        // The signature has no error return: leave the message and poison the output so the
        // failure cannot pass silently as a plausible encoding.
        err_set(ERR_NOMEM, "enc_forward: cannot allocate %zu floats", need);
        for (size_t i = 0; i < (size_t)B * d_out; i++) out[i] = NAN;
        return;
    }
    float *wt = ws, *priv = ws + n_wt;
    transpose_fwd(bk, nb, flat, wt);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int n = 0; n < B; n++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        float *act = acts ? acts + (size_t)n * n_acts : priv + (size_t)t * n_acts;
        fwd_image(bk, nb, wt, img + (size_t)n * bk[0].s * bk[0].s, act, out + (size_t)n * d_out);
    }
    free(ws);
}

// ---------------------------------------------------------------------------------------
// Backward

// Scratch layout (floats): up to 1 float of padding so the doubles are 8-byte aligned, then
// per-thread double partial sums (n_threads x n_params doubles), then Wk (n_params) shared,
// then per thread: one image's float gradient (n_params, w in the internal (cout, 3, 3, cin)
// order) and a workspace of two padded input-gradient maps plus one top gradient.
//
// Why double partials: each image's gradient is computed in float exactly the same way
// whatever the thread count, and summing those per-image gradients in double makes the
// grouping of images into threads invisible after the final rounding to float (float partials
// differed by ~1e-5 relative between 1 and 2 threads on a 24-image batch).
static size_t thread_ws(const blk *bk, int nb) {
    size_t m = 0;
    for (int i = 1; i < nb; i++) {
        size_t v = (size_t)(bk[i].s + 2) * (bk[i].s + 2) * bk[i].cin;
        if (v > m) m = v;
    }
    const blk *l = &bk[nb - 1];
    return 2 * m + (size_t)l->p * l->p * l->cout;
}

size_t enc_scratch_floats(const enc_config *c, int n_threads) {
    blk bk[ENC_MAX_BLOCKS];
    size_t np = 0;
    int nb = plan(c, bk, &np, NULL, NULL);
    if (!nb) return 0;
    if (n_threads < 1) n_threads = 1;
    return 1 + (size_t)n_threads * 2 * np + np + (size_t)n_threads * (np + thread_ws(bk, nb));
}

// Backward of one block for one image: dpool (p, p, cout) at dpool[(y*g_rs + x)*cout + c]
// -> adds into dw (cout, 9*cin) and db (cout), and if dpin is given into it (s+2, s+2, cin).
// Only the pooled argmax pixels with a positive ReLU output carry gradient, so the loop walks
// the pooled outputs and does two 9*cin-long axpys per live one: about a quarter of the
// dense work, and both axpys run over contiguous window rows.
// dst[r*dst_rs + k] += g * src[r*src_rs + k] for r < 3, k < seg. seg == 3 (a one-channel
// input) gets constant trip counts so it unrolls instead of running vector-loop epilogues.
static inline void axpy_3rows(float *dst, size_t dst_rs, const float *src, size_t src_rs,
                              float g, int seg) {
    if (seg == 3) {
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 3; k++) dst[r * dst_rs + k] += g * src[r * src_rs + k];
        return;
    }
    for (int r = 0; r < 3; r++) {
        float *d = dst + r * dst_rs;
        const float *x = src + r * src_rs;
        for (int k = 0; k < seg; k++) d[k] += g * x[k];
    }
}

enum { LIVE_CHUNK = 256 }; // channels compacted at a time (stack arrays, any cout works)

static void blk_bwd(const blk *b, const float *wk, const float *pin, const float *relu,
                    const float *arg, const float *dpool, int g_rs, float *dw, float *db,
                    float *dpin) {
    const int s = b->s, p = b->p, cin = b->cin, cout = b->cout;
    const int seg = 3 * cin, K = 9 * cin;
    const size_t rowstride = (size_t)(s + 2) * cin;
    int lc[LIVE_CHUNK], lq[LIVE_CHUNK];
    for (int py = 0; py < p; py++)
        for (int px = 0; px < p; px++) {
            const float *g = dpool + ((size_t)py * g_rs + px) * cout;
            const float *a = arg + ((size_t)py * p + px) * cout;
            const int q00 = 2 * py * s + 2 * px; // top-left pixel of this pool window
            for (int c0 = 0; c0 < cout; c0 += LIVE_CHUNK) {
                const int c1 = cout - c0 < LIVE_CHUNK ? cout : c0 + LIVE_CHUNK;
                // Compact the live channels first, without branches: whether the ReLU passed
                // is a coin flip per channel, and branching on it mispredicted half the time.
                int n = 0;
                for (int c = c0; c < c1; c++) {
                    const int q = (int)a[c];
                    lc[n] = c;
                    lq[n] = q;
                    n += (g[c] != 0.0f) & (relu[(size_t)q * cout + c] > 0.0f);
                }
                for (int i = 0; i < n; i++) {
                    const int c = lc[i], off = lq[i] - q00; // off in {0, 1, s, s+1}
                    const int dy = off >= s, dx = off - dy * s;
                    const float gv = g[c];
                    // window origin of conv pixel (2py+dy, 2px+dx) in the padded input
                    const size_t wo = ((size_t)(2 * py + dy) * (s + 2) + 2 * px + dx) * cin;
                    db[c] += gv;
                    axpy_3rows(dw + (size_t)c * K, (size_t)seg, pin + wo, rowstride, gv, seg);
                    if (dpin)
                        axpy_3rows(dpin + wo, rowstride, wk + (size_t)c * K, (size_t)seg, gv, seg);
                }
            }
        }
}

// Runs on omp_get_max_threads() threads, so scratch must have been sized with
// enc_scratch_floats(c, n) for n >= that count. acts must come from enc_forward with the same
// parameters and images.
void enc_backward(const enc_config *c, const float *flat, int B, const float *img,
                  const float *acts, const float *dout, float *grad, float *scratch) {
    (void)img; // the padded image is kept in acts (block 0's pin)
    blk bk[ENC_MAX_BLOCKS];
    size_t np = 0, n_acts = 0;
    int nb = plan(c, bk, &np, &n_acts, NULL);
    if (!nb || B <= 0) return;
    const int d_out = enc_d_out(c);
    const int nt_max = n_threads_max();
    const size_t tws = thread_ws(bk, nb), per_t = np + tws;
    const size_t mpin = (tws - (size_t)d_out) / 2;
    float *aligned = scratch + (((uintptr_t)scratch & 7) ? 1 : 0);
    double *dparts = (double *)(void *)aligned;            // (nt_max, n_params)
    float *wk = aligned + (size_t)nt_max * 2 * np;         // (n_params)
    float *parts = wk + np;                                // (nt_max, per_t)

    // Wk: weights with the window index innermost, (cout, 3, 3, cin) per block, biases unused.
    for (int i = 0; i < nb; i++) {
        const blk *b = &bk[i];
        for (int co = 0; co < b->cout; co++)
            for (int ci = 0; ci < b->cin; ci++)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                        wk[b->w_off + (size_t)co * 9 * b->cin + (size_t)(ky * 3 + kx) * b->cin + ci] =
                            flat[b->w_off + w_pub(co, ci, ky, kx, b->cin)];
    }
#pragma omp parallel num_threads(nt_max)
    {
        int t = 0, nt = 1;
#ifdef _OPENMP
        t = omp_get_thread_num();
        nt = omp_get_num_threads();
#endif
        double *dpart = dparts + (size_t)t * np;       // (n_params)
        float *part = parts + (size_t)t * per_t;       // (n_params) one image's gradient
        float *dA = part + np, *dB = dA + mpin;        // 2 x (s+2, s+2, cin) max
        float *top = dB + mpin;                        // (p, p, c_last) HWC
        memset(dpart, 0, sizeof(double) * np);
        // Static schedule: thread t always gets the same images for a given thread count,
        // so the per-thread partial sums (and the result) are reproducible.
#pragma omp for schedule(static)
        for (int n = 0; n < B; n++) {
            const float *act = acts + (size_t)n * n_acts;
            memset(part, 0, sizeof(float) * np);
            const blk *l = &bk[nb - 1];
            const int pp = l->p * l->p;
            const float *d = dout + (size_t)n * d_out; // (c, y, x)
            for (int q = 0; q < pp; q++)
                for (int ch = 0; ch < l->cout; ch++) top[(size_t)q * l->cout + ch] = d[(size_t)ch * pp + q];
            const float *g = top;
            int g_rs = l->p;
            float *cur = dA, *other = dB;
            for (int i = nb - 1; i >= 0; i--) {
                const blk *b = &bk[i];
                float *dpin = NULL;
                if (i > 0) {
                    dpin = cur;
                    memset(dpin, 0, sizeof(float) * (size_t)(b->s + 2) * (b->s + 2) * b->cin);
                }
                blk_bwd(b, wk + b->w_off, act + b->pin_off, act + b->relu_off, act + b->arg_off,
                        g, g_rs, part + b->w_off, part + b->b_off, dpin);
                if (i > 0) {
                    // Block i-1's pooled output is the interior of this block's padded input.
                    g = dpin + (size_t)(b->s + 2 + 1) * b->cin;
                    g_rs = b->s + 2;
                    float *tmp = cur; cur = other; other = tmp;
                }
            }
            for (size_t j = 0; j < np; j++) dpart[j] += part[j];
        }
        // (the omp for's barrier: every partial is complete past this point)
        // Reduce partials in thread order (fixed), permuting w back to the public layout.
        // Same parallel region, so an oversubscribed machine pays no extra fork/join.
        for (int i = 0; i < nb; i++) {
            const blk *b = &bk[i];
            const int cin = b->cin, K = 9 * cin;
#pragma omp for schedule(static) nowait
            for (int co = 0; co < b->cout; co++) {
                for (int ci = 0; ci < cin; ci++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            size_t src = b->w_off + (size_t)co * K + (size_t)(ky * 3 + kx) * cin + ci;
                            double acc = 0.0;
                            for (int u = 0; u < nt; u++) acc += dparts[(size_t)u * np + src];
                            grad[b->w_off + w_pub(co, ci, ky, kx, cin)] += (float)acc;
                        }
                double acc = 0.0;
                for (int u = 0; u < nt; u++) acc += dparts[(size_t)u * np + b->b_off + co];
                grad[b->b_off + co] += (float)acc;
            }
        }
    }
}
