#include "kernels/train.h"
#include "kernels/adamw.h"
#include "kernels/err.h"
#include "kernels/h5io.h"
#include "kernels/tensor.h"
#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { STAGE_ENCODER = 1, STAGE_DEC_LINEAR = 2, STAGE_DEC_SOFTMAX = 3, STAGE_DONE = 4 };
static const char *stage_name[] = {"", "encoder", "decoder-linear", "decoder-softmax", "done"};
#define COS_SCALE 10.0f  // temperature of the cosine prototype classifier in stage 1
#define PER_CLS 4        // images per class in a stage-1 episode (half supports)

void tr_default_options(tr_options *o) {
    memset(o, 0, sizeof *o);
    o->threads = 2;
    o->seed = 1;
    o->enc_steps = 4000; o->enc_batch = 128; o->enc_lr = 2e-3f;
    o->dec_steps = 3000; o->dec_batch = 16; o->dec_lr = 3e-3f;
    o->weight_decay = 1e-4f;
    o->min_way = 5; o->max_shot = 5; o->queries_total = 20;
    o->max_shift = 2;
    o->checkpoint_every_s = 60.0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

void tr_augment(const float *src, int rot, int dx, int dy, float *dst) {
    const int S = DS_SIDE;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int sx = x - dx, sy = y - dy;  // source of (x, y) before the shift
            float v = 0.0f;
            if (sx >= 0 && sx < S && sy >= 0 && sy < S) {
                int rx, ry;  // inverse rotation by rot * 90 degrees counter-clockwise
                switch (rot & 3) {
                case 0: rx = sx; ry = sy; break;
                case 1: rx = S - 1 - sy; ry = sx; break;
                case 2: rx = S - 1 - sx; ry = S - 1 - sy; break;
                default: rx = sy; ry = S - 1 - sx; break;
                }
                v = src[ry * S + rx];
            }
            dst[y * S + x] = v;
        }
}

// Cosine learning-rate schedule with linear warm-up, floor at 5% of the peak.
static float lr_at(float peak, int step, int total) {
    int warm = total / 20 + 1;
    if (step < warm) return peak * (step + 1) / warm;
    float p = (float)(step - warm) / (float)(total - warm > 0 ? total - warm : 1);
    return peak * (0.05f + 0.95f * 0.5f * (1.0f + cosf(3.14159265f * p)));
}

// ---------------------------------------------------------------- progress -------------

typedef struct {
    const tr_options *o;
    double t0, last;
    double loss_ema, acc_ema;
    int have;
} progress;

// step and total count the whole stage; start is where this invocation began (after a resume).
static void progress_update(progress *p, int stage, int step, int start, int total, float loss, float acc,
                            double items_per_step, const char *unit) {
    if (!p->have) { p->loss_ema = loss; p->acc_ema = acc; p->have = 1; }
    p->loss_ema = 0.98 * p->loss_ema + 0.02 * loss;
    p->acc_ema = 0.98 * p->acc_ema + 0.02 * acc;
    if (!p->o->log) return;
    double t = now_s();
    int last_step = step + 1 == total;
    if (!last_step && t - p->last < (p->o->log_tty ? 0.5 : 15.0)) return;
    p->last = t;
    double el = t - p->t0, rate = (step + 1 - start) * items_per_step / (el > 1e-9 ? el : 1e-9);
    double eta = el / (step + 1 - start) * (total - step - 1);
    fprintf(p->o->log, "%strain %-15s step %5d/%d  loss %.3f  acc %5.1f%%  %7.1f %s/s  ETA %4.0fs%s",
            p->o->log_tty ? "\r" : "", stage_name[stage], step + 1, total, p->loss_ema,
            100.0 * p->acc_ema, rate, unit, eta, p->o->log_tty ? (last_step ? "\n" : "") : "\n");
    fflush(p->o->log);
}

// ---------------------------------------------------------------- checkpoints ----------

typedef struct {
    int stage, step;
    const char *data_source;  // the training set's source, refused on resume if it differs
    char *data_source_out;    // where ckpt_read_train puts the stored source (may be NULL)
    size_t data_source_n;
    adamw_state *opt[2];   // optimisers of the current stage (second may be NULL)
} ckpt_state;

static int ckpt_extra(int64_t file, void *ctx) {
    ckpt_state *c = ctx;
    hid_t g = H5Gcreate2((hid_t)file, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return 1;
    int bad = h5io_write_i64(g, "stage", c->stage) || h5io_write_i64(g, "step", c->step) ||
              (c->data_source && h5io_write_str(g, "data_source", c->data_source));
    for (int i = 0; i < 2 && !bad; i++) {
        if (!c->opt[i]) continue;
        char nm[32];
        snprintf(nm, sizeof nm, "opt%d_step", i);
        bad |= h5io_write_i64(g, nm, c->opt[i]->step);
        snprintf(nm, sizeof nm, "opt%d_m", i);
        bad |= h5io_write_f32(g, nm, c->opt[i]->m, c->opt[i]->n);
        snprintf(nm, sizeof nm, "opt%d_v", i);
        bad |= h5io_write_f32(g, nm, c->opt[i]->v, c->opt[i]->n);
    }
    H5Gclose(g);
    return bad;
}

static char *ckpt_path(const tr_options *o) {
    size_t n = strlen(o->out) + 8;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s.ckpt", o->out);
    return p;
}

static int ckpt_save(const tr_options *o, mdl_model *m, ckpt_state *c) {
    char *p = ckpt_path(o);
    if (!p) return err_set(ERR_NOMEM, "out of memory");
    int rc = mdl_save_ex(p, m, "checkpoint", ckpt_extra, c);
    free(p);
    return rc;
}

// Reads stage/step, then (if the stage matches) the optimiser moments.
static int ckpt_read_train(const char *path, ckpt_state *c, int want_stage) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 1;
    hid_t g = H5Gopen2(f, "train", H5P_DEFAULT);
    long long st = 0, sp = 0;
    int bad = g < 0 || h5io_read_i64(g, "stage", &st) || h5io_read_i64(g, "step", &sp);
    if (!bad) { c->stage = (int)st; c->step = (int)sp; }
    if (!bad && c->data_source_out) h5io_read_str(g, "data_source", c->data_source_out, c->data_source_n);
    if (!bad && want_stage && st == want_stage) {
        for (int i = 0; i < 2 && !bad; i++) {
            if (!c->opt[i]) continue;
            char nm[32];
            long long os = 0;
            snprintf(nm, sizeof nm, "opt%d_step", i);
            bad |= h5io_read_i64(g, nm, &os);
            c->opt[i]->step = os;
            snprintf(nm, sizeof nm, "opt%d_m", i);
            bad |= h5io_read_f32(g, nm, c->opt[i]->m, c->opt[i]->n);
            snprintf(nm, sizeof nm, "opt%d_v", i);
            bad |= h5io_read_f32(g, nm, c->opt[i]->v, c->opt[i]->n);
        }
    }
    if (g >= 0) H5Gclose(g);
    H5Fclose(f);
    return bad;
}

// ---------------------------------------------------------------- stage 1: encoder -----

typedef struct {
    const ds_set *set;
    int *img_class;   // (n_images) class of each image
    int n_vclass;     // classes x 4 rotations
    int **alpha_cls;  // (n_alphabets) class lists per alphabet
    int *alpha_n;     // (n_alphabets)
    int *steps_done;  // optimiser steps taken in this invocation (for o->stop_after)
} train_data;

static int train_encoder(const tr_options *o, const train_data *td, mdl_model *m, int start,
                         ckpt_state *ck, adamw_state *opt_enc) {
    const enc_config *ec = &m->enc;
    const int n_cls = o->enc_batch / PER_CLS > 2 ? o->enc_batch / PER_CLS : 2;
    const int B = n_cls * PER_CLS, D = enc_d_out(ec), T = o->threads;
    const size_t np = enc_n_params(ec), na = enc_act_floats(ec);
    float *imgs = malloc((size_t)B * DS_PIX * sizeof(float));      // (B, DS_PIX)
    float *acts = malloc((size_t)B * na * sizeof(float));          // (B, act)
    float *feat = malloc((size_t)B * D * sizeof(float));           // (B, D)
    float *fn = malloc((size_t)B * D * sizeof(float));             // (B, D) normalised
    float *norm = malloc((size_t)B * sizeof(float));               // (B)
    float *dfeat = malloc((size_t)B * D * sizeof(float));          // (B, D)
    float *logits = malloc((size_t)n_cls * sizeof(float));         // (n_cls) one query's
    float *proto = malloc((size_t)n_cls * D * sizeof(float));      // (n_cls, D) prototypes
    float *dproto = malloc((size_t)n_cls * D * sizeof(float));     // (n_cls, D)
    float *dfn = malloc((size_t)B * D * sizeof(float));            // (B, D)
    int *lab = malloc((size_t)B * sizeof(int));                    // (B)
    float *genc = malloc(np * sizeof(float));                      // (np)
    float *scratch = malloc(enc_scratch_floats(ec, T) * sizeof(float));
    int rc = 0;
    if (!imgs || !acts || !feat || !fn || !norm || !dfeat || !logits || !proto || !dproto || !dfn || !lab || !genc || !scratch) {
        rc = err_set(ERR_NOMEM, "out of memory for encoder training");
        goto done;
    }
    progress pr = {.o = o, .t0 = now_s(), .last = 0};
    double last_ck = now_s();
    for (int step = start; step < o->enc_steps; step++) {
        if ((o->stop && *o->stop) || (o->stop_after > 0 && *td->steps_done >= o->stop_after)) {
            ck->stage = STAGE_ENCODER; ck->step = step;
            rc = ckpt_save(o, m, ck);
            if (!rc) rc = err_set(ERR_INTERRUPTED, "interrupted at %s step %d; checkpoint %s.ckpt saved, continue with --resume",
                                  stage_name[ck->stage], step, o->out);
            goto done;
        }
        rng_t r;
        rng_seed2(&r, o->seed, ((uint64_t)STAGE_ENCODER << 40) | (uint64_t)step);
        // A prototypical-network episode: n_cls rotated classes, PER_CLS images each; the
        // first half of each class are supports (averaged into a prototype), the rest queries.
        for (int i = 0; i < n_cls; i++) {
            int v, dup;
            do {
                v = (int)rng_below(&r, (uint32_t)td->n_vclass);
                dup = 0;
                for (int j = 0; j < i; j++) dup |= lab[j * PER_CLS] == v;
            } while (dup);
            int c = v / 4, rot = v % 4, c0 = td->set->class_start[c], cn = td->set->class_start[c + 1] - c0;
            int pick[PER_CLS];
            for (int j = 0; j < PER_CLS; j++) {
                int k, again;
                do {
                    k = (int)rng_below(&r, (uint32_t)cn);
                    again = 0;
                    for (int jj = 0; jj < j; jj++) again |= pick[jj] == k;
                } while (again && cn >= PER_CLS);
                pick[j] = k;
                int b = i * PER_CLS + j;
                int dx = (int)rng_below(&r, 2 * o->max_shift + 1) - o->max_shift;
                int dy = (int)rng_below(&r, 2 * o->max_shift + 1) - o->max_shift;
                tr_augment(td->set->pixels + (size_t)(c0 + k) * DS_PIX, rot, dx, dy, imgs + (size_t)b * DS_PIX);
                lab[b] = v;
            }
        }
        enc_forward(ec, m->enc_params, B, imgs, acts, feat);
        for (int b = 0; b < B; b++) {
            float *f = fn + (size_t)b * D;
            memcpy(f, feat + (size_t)b * D, D * sizeof(float));
            norm[b] = ts_l2_normalize(f, D);
            if (norm[b] < 1e-12f) norm[b] = 1e-12f;
        }
        memset(proto, 0, (size_t)n_cls * D * sizeof(float));
        for (int i = 0; i < n_cls; i++)
            for (int j = 0; j < PER_CLS / 2; j++)
                for (int d = 0; d < D; d++) proto[(size_t)i * D + d] += fn[(size_t)(i * PER_CLS + j) * D + d] / (PER_CLS / 2);
        double loss = 0.0;
        int correct = 0, n_query = n_cls * (PER_CLS - PER_CLS / 2);
        memset(dfn, 0, (size_t)B * D * sizeof(float));
        memset(dproto, 0, (size_t)n_cls * D * sizeof(float));
        for (int i = 0; i < n_cls; i++)
            for (int j = PER_CLS / 2; j < PER_CLS; j++) {
                int b = i * PER_CLS + j;
                const float *f = fn + (size_t)b * D;
                float mx = -INFINITY;
                int arg = 0;
                for (int c = 0; c < n_cls; c++) {
                    logits[c] = COS_SCALE * ts_dot(f, proto + (size_t)c * D, D);
                    if (logits[c] > mx) { mx = logits[c]; arg = c; }
                }
                float sum = 0.0f;
                for (int c = 0; c < n_cls; c++) { logits[c] = expf(logits[c] - mx); sum += logits[c]; }
                loss += logf(sum) - logf(logits[i]);
                correct += arg == i;
                for (int c = 0; c < n_cls; c++) {
                    float g = (logits[c] / sum - (c == i)) / n_query * COS_SCALE;
                    for (int d = 0; d < D; d++) {
                        dfn[(size_t)b * D + d] += g * proto[(size_t)c * D + d];
                        dproto[(size_t)c * D + d] += g * f[d];
                    }
                }
            }
        for (int i = 0; i < n_cls; i++)
            for (int j = 0; j < PER_CLS / 2; j++)
                for (int d = 0; d < D; d++) dfn[(size_t)(i * PER_CLS + j) * D + d] += dproto[(size_t)i * D + d] / (PER_CLS / 2);
        // through the L2 normalisation: d feat = (d fn - fn (fn . d fn)) / |feat|
        for (int b = 0; b < B; b++) {
            const float *f = fn + (size_t)b * D, *g = dfn + (size_t)b * D;
            float dot = ts_dot(f, g, D);
            for (int d = 0; d < D; d++) dfeat[(size_t)b * D + d] = (g[d] - f[d] * dot) / norm[b];
        }
        memset(genc, 0, np * sizeof(float));
        enc_backward(ec, m->enc_params, B, imgs, acts, dfeat, genc, scratch);
        float lr = lr_at(o->enc_lr, step, o->enc_steps);
        adamw_update(opt_enc, m->enc_params, genc, lr);
        ++*td->steps_done;
        progress_update(&pr, STAGE_ENCODER, step, start, o->enc_steps, (float)(loss / n_query),
                        (float)correct / n_query, B, "img");
        if (now_s() - last_ck > o->checkpoint_every_s) {
            ck->stage = STAGE_ENCODER; ck->step = step + 1;
            if ((rc = ckpt_save(o, m, ck))) goto done;
            last_ck = now_s();
        }
    }
done:
    free(imgs); free(acts); free(feat); free(fn); free(norm); free(dfeat); free(logits);
    free(lab); free(genc); free(scratch); free(proto); free(dproto); free(dfn);
    return rc;
}

// ---------------------------------------------------------------- stages 2-3: decoders -

// Samples a meta-training episode over rotated classes into emb/label (tokens: supports then
// queries). Returns the token counts.
static void sample_train_episode(const tr_options *o, const train_data *td, const float *emb_all,
                                 int D, int n_labels, rng_t *r, float *emb, int *label,
                                 int *n_sup, int *n_q, int *n_way) {
    const ds_set *s = td->set;
    int N = o->min_way + (int)rng_below(r, (uint32_t)(n_labels - o->min_way + 1));
    int K = 1 + (int)rng_below(r, (uint32_t)o->max_shot);
    int Q = o->queries_total / N > 1 ? o->queries_total / N : 1;
    int cls[1024];
    int rot_fixed = -1;
    int n = 0;
    // Half the episodes within one alphabet and rotation: harder, like Lake's benchmark.
    if (rng_below(r, 2)) {
        int a = (int)rng_below(r, (uint32_t)s->n_alphabets);
        if (td->alpha_n[a] >= N) {
            int tmp[4096], m = td->alpha_n[a] < 4096 ? td->alpha_n[a] : 4096;
            memcpy(tmp, td->alpha_cls[a], m * sizeof(int));
            for (int i = 0; i < N; i++) {
                int j = i + (int)rng_below(r, (uint32_t)(m - i));
                int t = tmp[i]; tmp[i] = tmp[j]; tmp[j] = t;
                cls[n++] = tmp[i];
            }
            rot_fixed = (int)rng_below(r, 4);
        }
    }
    int vcls[1024];
    if (rot_fixed >= 0) {
        for (int i = 0; i < N; i++) vcls[i] = cls[i] * 4 + rot_fixed;
    } else {
        for (int i = 0; i < N; i++) {
            int v, dup;
            do {
                v = (int)rng_below(r, (uint32_t)td->n_vclass);
                dup = 0;
                for (int j = 0; j < i; j++) dup |= vcls[j] == v;
            } while (dup);
            vcls[i] = v;
        }
    }
    // label permutation: class i gets label perm[i]
    int perm[1024];
    for (int i = 0; i < N; i++) perm[i] = i;
    rng_shuffle_int(r, perm, N);
    int ns = 0, nq = 0;
    int sup_img[4096], sup_lab[4096];
    for (int i = 0; i < N; i++) {
        int c = vcls[i] / 4, rot = vcls[i] % 4;
        int c0 = s->class_start[c], cn = s->class_start[c + 1] - c0;
        int pick[256], m = cn < 256 ? cn : 256;
        for (int j = 0; j < m; j++) pick[j] = j;
        int need = K + Q < m ? K + Q : m;
        for (int j = 0; j < need; j++) {
            int k = j + (int)rng_below(r, (uint32_t)(m - j));
            int t = pick[j]; pick[j] = pick[k]; pick[k] = t;
        }
        for (int j = 0; j < need; j++) {
            int e = (c0 + pick[j]) * 4 + rot;
            if (j < K) { sup_img[ns] = e; sup_lab[ns] = perm[i]; ns++; }
            else {
                // queries are placed after all supports below
                sup_img[2048 + nq] = e; sup_lab[2048 + nq] = perm[i]; nq++;
            }
        }
    }
    // shuffle supports
    for (int i = ns - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint32_t)(i + 1));
        int t = sup_img[i]; sup_img[i] = sup_img[j]; sup_img[j] = t;
        t = sup_lab[i]; sup_lab[i] = sup_lab[j]; sup_lab[j] = t;
    }
    for (int i = 0; i < ns; i++) {
        memcpy(emb + (size_t)i * D, emb_all + (size_t)sup_img[i] * D, D * sizeof(float));
        label[i] = sup_lab[i];
    }
    for (int i = 0; i < nq; i++) {
        memcpy(emb + (size_t)(ns + i) * D, emb_all + (size_t)sup_img[2048 + i] * D, D * sizeof(float));
        label[ns + i] = sup_lab[2048 + i];
    }
    *n_sup = ns; *n_q = nq; *n_way = N;
}

static int train_decoder(const tr_options *o, const train_data *td, const float *emb_all,
                         mdl_model *m, int kind, int start, ckpt_state *ck, adamw_state *opt) {
    const tf_config *c = &m->dec[kind];
    const int D = c->d_in, T = o->threads, stage = kind == TF_LINEAR ? STAGE_DEC_LINEAR : STAGE_DEC_SOFTMAX;
    const int max_q = o->queries_total / o->min_way > 1 ? o->queries_total / o->min_way : 1;
    const int max_tok = c->n_labels * (o->max_shot + max_q);
    const size_t np = tf_n_params(c);
    float *grads = calloc((size_t)T * np, sizeof(float));   // (threads, np)
    float *embs = malloc((size_t)T * max_tok * D * sizeof(float));  // (threads, max_tok, D)
    int *labels = malloc((size_t)T * max_tok * sizeof(int));        // (threads, max_tok)
    tf_acts *acts = calloc(T, sizeof(tf_acts));
    int rc = 0;
    if (!grads || !embs || !labels || !acts) { rc = err_set(ERR_NOMEM, "out of memory for decoder training"); goto done; }
    for (int t = 0; t < T; t++)
        if ((rc = tf_acts_alloc(c, max_tok, &acts[t]))) goto done;
    progress pr = {.o = o, .t0 = now_s(), .last = 0};
    double last_ck = now_s();
    for (int step = start; step < o->dec_steps; step++) {
        if ((o->stop && *o->stop) || (o->stop_after > 0 && *td->steps_done >= o->stop_after)) {
            ck->stage = stage; ck->step = step;
            rc = ckpt_save(o, m, ck);
            if (!rc) rc = err_set(ERR_INTERRUPTED, "interrupted at %s step %d; checkpoint %s.ckpt saved, continue with --resume",
                                  stage_name[ck->stage], step, o->out);
            goto done;
        }
        memset(grads, 0, (size_t)T * np * sizeof(float));
        double loss = 0.0;
        int correct = 0, queries = 0;
#pragma omp parallel for num_threads(T) reduction(+ : loss, correct, queries) schedule(static)
        for (int e = 0; e < o->dec_batch; e++) {
            int th = omp_get_thread_num();
            rng_t r;
            rng_seed2(&r, o->seed, ((uint64_t)stage << 40) | ((uint64_t)step << 12) | (uint64_t)e);
            float *emb = embs + (size_t)th * max_tok * D;
            int *lab = labels + (size_t)th * max_tok;
            int ns, nq, nw, nc;
            sample_train_episode(o, td, emb_all, D, c->n_labels, &r, emb, lab, &ns, &nq, &nw);
            loss += tf_forward(c, m->dec_params[kind], &acts[th], emb, lab, ns, nq, nw, &nc);
            // Each episode's mean loss weighs equally in the batch.
            tf_backward(c, m->dec_params[kind], &acts[th], emb, lab, ns, nq, nw, grads + (size_t)th * np, NULL);
            correct += nc;
            queries += nq;
        }
        for (int t = 1; t < T; t++)
            for (size_t i = 0; i < np; i++) grads[i] += grads[(size_t)t * np + i];
        for (size_t i = 0; i < np; i++) grads[i] /= o->dec_batch;
        adamw_update(opt, m->dec_params[kind], grads, lr_at(o->dec_lr, step, o->dec_steps));
        ++*td->steps_done;
        progress_update(&pr, stage, step, start, o->dec_steps, (float)(loss / o->dec_batch),
                        queries ? (float)correct / queries : 0.0f, o->dec_batch, "ep");
        if (now_s() - last_ck > o->checkpoint_every_s) {
            ck->stage = stage; ck->step = step + 1;
            if ((rc = ckpt_save(o, m, ck))) goto done;
            last_ck = now_s();
        }
    }
done:
    if (acts) for (int t = 0; t < T; t++) tf_acts_free(&acts[t]);
    free(acts); free(grads); free(embs); free(labels);
    return rc;
}

// Embeddings of every (image, rotation) of the set under the current encoder.
static int embed_all(const tr_options *o, const mdl_model *m, const ds_set *s, float **out) {
    const int D = enc_d_out(&m->enc), B = 256;
    float *emb = malloc((size_t)s->n_images * 4 * D * sizeof(float));  // (n_images * 4, D)
    float *imgs = malloc((size_t)B * 4 * DS_PIX * sizeof(float));       // (B * 4, DS_PIX)
    if (!emb || !imgs) { free(emb); free(imgs); return err_set(ERR_NOMEM, "out of memory for embeddings"); }
    (void)o;
    for (int i0 = 0; i0 < s->n_images; i0 += B) {
        int nb = s->n_images - i0 < B ? s->n_images - i0 : B;
        for (int i = 0; i < nb; i++)
            for (int r = 0; r < 4; r++)
                tr_augment(s->pixels + (size_t)(i0 + i) * DS_PIX, r, 0, 0, imgs + ((size_t)i * 4 + r) * DS_PIX);
        mdl_embed(m, nb * 4, imgs, emb + (size_t)i0 * 4 * D);
    }
    free(imgs);
    *out = emb;
    return 0;
}

// ---------------------------------------------------------------- driver ---------------

int tr_train(const tr_options *o, const ds_set *set, mdl_model *m) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (o->threads >= 1) omp_set_num_threads(o->threads);  // the encoder's scratch is sized for this
    if (o->threads < 1 || o->threads > 256) return err_set(ERR_ARG, "--threads %d outside 1..256", o->threads);
    if (o->enc_steps < 0 || o->dec_steps < 0 || o->enc_batch < 1 || o->dec_batch < 1)
        return err_set(ERR_ARG, "training steps must be >= 0 and batch sizes >= 1");
    const int n_labels = m->dec[TF_LINEAR].n_labels;
    if (o->min_way < 2 || o->min_way > n_labels || o->max_shot < 1 || o->max_shot > 64 || o->queries_total < 1)
        return err_set(ERR_ARG, "episode shape out of range (min_way 2..%d, max_shot 1..64)", n_labels);
    if (n_labels * o->max_shot > 2048 || enc_d_out(&m->enc) > 1024)
        return err_set(ERR_ARG, "n_labels x max_shot above 2048 or embedding above 1024 (too large to meta-train)");
    int min_per_class = 1 << 30;
    for (int c = 0; c < set->n_classes; c++) {
        int n = set->class_start[c + 1] - set->class_start[c];
        if (n < min_per_class) min_per_class = n;
    }
    int max_q = o->queries_total / o->min_way > 1 ? o->queries_total / o->min_way : 1;
    if (set->n_classes < n_labels || min_per_class < o->max_shot + max_q)
        return err_set(ERR_ARG, "training set %s too small: needs >= %d classes with >= %d images each",
                       set->source, n_labels, o->max_shot + max_q);

    int steps_done = 0;
    train_data td = {.set = set, .n_vclass = set->n_classes * 4, .steps_done = &steps_done};
    td.img_class = malloc((size_t)set->n_images * sizeof(int));
    td.alpha_cls = calloc(set->n_alphabets, sizeof(int *));
    td.alpha_n = calloc(set->n_alphabets, sizeof(int));
    adamw_state opt_enc = {0}, opt_dec = {0};
    float *emb_all = NULL;
    char *ckp = ckpt_path(o);
    int rc = 0;
    if (!td.img_class || !td.alpha_cls || !td.alpha_n || !ckp) { rc = err_set(ERR_NOMEM, "out of memory"); goto done; }
    for (int c = 0; c < set->n_classes; c++) {
        for (int i = set->class_start[c]; i < set->class_start[c + 1]; i++) td.img_class[i] = c;
        td.alpha_n[set->class_alphabet[c]]++;
    }
    for (int a = 0; a < set->n_alphabets; a++) {
        td.alpha_cls[a] = malloc((size_t)(td.alpha_n[a] + 1) * sizeof(int));
        if (!td.alpha_cls[a]) { rc = err_set(ERR_NOMEM, "out of memory"); goto done; }
        td.alpha_n[a] = 0;
    }
    for (int c = 0; c < set->n_classes; c++) {
        int a = set->class_alphabet[c];
        td.alpha_cls[a][td.alpha_n[a]++] = c;
    }

    rng_t r;
    rng_seed2(&r, o->seed, 0);
    enc_init(&m->enc, m->enc_params, &r);
    tf_init(&m->dec[TF_LINEAR], m->dec_params[TF_LINEAR], &r);
    tf_init(&m->dec[TF_SOFTMAX], m->dec_params[TF_SOFTMAX], &r);

    if (o->init_from) {
        mdl_model im;
        if ((rc = mdl_load(o->init_from, &im))) { rc = err_wrap(rc, "--init"); goto done; }
        if (enc_n_params(&im.enc) != enc_n_params(&m->enc)) {
            mdl_free(&im);
            rc = err_set(ERR_FORMAT, "--init %s has another encoder configuration", o->init_from);
            goto done;
        }
        memcpy(m->enc_params, im.enc_params, enc_n_params(&m->enc) * sizeof(float));
        mdl_free(&im);
    }
    int stage = STAGE_ENCODER, step = 0;
    if (o->resume && access(ckp, R_OK) != 0) {
        rc = err_set(ERR_ARG, "--resume: no checkpoint %s (drop --resume to train from the beginning)", ckp);
        goto done;
    }
    if (o->resume && access(ckp, R_OK) == 0) {
        mdl_model cm;
        if ((rc = mdl_load(ckp, &cm))) { rc = err_wrap(rc, "resuming"); goto done; }
        int same = cm.enc.side == m->enc.side && cm.enc.n_blocks == m->enc.n_blocks &&
                   !memcmp(cm.enc.ch, m->enc.ch, sizeof cm.enc.ch);
        for (int k = 0; k < 2; k++) {
            const tf_config *a = &cm.dec[k], *b = &m->dec[k];
            same &= a->d_in == b->d_in && a->d_model == b->d_model && a->n_layers == b->n_layers &&
                    a->n_heads == b->n_heads && a->d_ff == b->d_ff && a->n_labels == b->n_labels;
        }
        if (!same) {
            mdl_free(&cm);
            rc = err_set(ERR_ARG, "checkpoint %s has another model configuration (heads, layers, widths); "
                         "use the same options or delete it", ckp);
            goto done;
        }
        memcpy(m->enc_params, cm.enc_params, enc_n_params(&m->enc) * sizeof(float));
        for (int k = 0; k < 2; k++) memcpy(m->dec_params[k], cm.dec_params[k], tf_n_params(&m->dec[k]) * sizeof(float));
        mdl_free(&cm);
        char src[600] = "";
        ckpt_state probe = {.data_source_out = src, .data_source_n = sizeof src};
        if (ckpt_read_train(ckp, &probe, 0)) { rc = err_set(ERR_FORMAT, "checkpoint %s has no training state; delete it", ckp); goto done; }
        if (src[0] && strcmp(src, set->source)) {
            rc = err_set(ERR_ARG, "checkpoint %s was trained on %s, not %s; use the same --task/--data or delete it",
                         ckp, src, set->source);
            goto done;
        }
        stage = probe.stage; step = probe.step;
        if (o->log) fprintf(o->log, "train: resuming from %s at stage %s step %d\n", ckp, stage_name[stage], step);
    }

    if (stage == STAGE_ENCODER) {
        if ((rc = adamw_init(&opt_enc, enc_n_params(&m->enc), o->weight_decay))) goto done;
        ckpt_state ck = {.opt = {&opt_enc, NULL}, .data_source = set->source};
        if (step > 0 && ckpt_read_train(ckp, &ck, STAGE_ENCODER)) { rc = err_set(ERR_FORMAT, "checkpoint %s: optimiser state unreadable; delete it", ckp); goto done; }
        if ((rc = train_encoder(o, &td, m, step, &ck, &opt_enc))) goto done;
        adamw_free(&opt_enc);
        stage = STAGE_DEC_LINEAR; step = 0;
    }
    if (stage == STAGE_DEC_LINEAR || stage == STAGE_DEC_SOFTMAX) {
        double t0 = now_s();
        if ((rc = embed_all(o, m, set, &emb_all))) goto done;
        if (o->log) fprintf(o->log, "train: embedded %d images x 4 rotations in %.1fs\n", set->n_images, now_s() - t0);
    }
    for (int kind = 0; kind < 2; kind++) {
        int st = kind == TF_LINEAR ? STAGE_DEC_LINEAR : STAGE_DEC_SOFTMAX;
        if (stage != st) continue;
        if ((rc = adamw_init(&opt_dec, tf_n_params(&m->dec[kind]), o->weight_decay))) goto done;
        ckpt_state ck = {.opt = {&opt_dec, NULL}, .data_source = set->source};
        if (step > 0 && ckpt_read_train(ckp, &ck, st)) { rc = err_set(ERR_FORMAT, "checkpoint %s: optimiser state unreadable; delete it", ckp); goto done; }
        if ((rc = train_decoder(o, &td, emb_all, m, kind, step, &ck, &opt_dec))) goto done;
        adamw_free(&opt_dec);
        stage = st + 1; step = 0;
    }
    char note[1024];
    snprintf(note, sizeof note, "seed=%llu enc_steps=%d enc_batch=%d dec_steps=%d dec_batch=%d data=%s",
             (unsigned long long)o->seed, o->enc_steps, o->enc_batch, o->dec_steps, o->dec_batch, set->source);
    if ((rc = mdl_save(o->out, m, note))) goto done;
    unlink(ckp);
done:
    adamw_free(&opt_enc); adamw_free(&opt_dec);
    if (td.alpha_cls) for (int a = 0; a < set->n_alphabets; a++) free(td.alpha_cls[a]);
    free(td.alpha_cls); free(td.alpha_n); free(td.img_class); free(emb_all); free(ckp);
    return rc;
}

// ---------------------------------------------------------------- sampler hook ---------

struct tr_sampler {
    tr_options o;
    train_data td;
    float *emb_all;
    int D, n_labels;
};

void tr_sampler_close(tr_sampler *s) {
    if (!s) return;
    if (s->td.alpha_cls) for (int a = 0; a < s->td.set->n_alphabets; a++) free(s->td.alpha_cls[a]);
    free(s->td.alpha_cls); free(s->td.alpha_n); free(s->td.img_class); free(s->emb_all);
    free(s);
}

int tr_sampler_open(const tr_options *o, const ds_set *set, const mdl_model *m, int n_labels, tr_sampler **out) {
    *out = NULL;
    if (o->min_way < 2 || o->min_way > n_labels || o->max_shot < 1 || o->max_shot > 64 || o->queries_total < 1)
        return err_set(ERR_ARG, "episode shape out of range (min_way 2..%d, max_shot 1..64)", n_labels);
    tr_sampler *s = calloc(1, sizeof *s);
    if (!s) return err_set(ERR_NOMEM, "out of memory");
    s->o = *o;
    s->D = enc_d_out(&m->enc);
    s->n_labels = n_labels;
    train_data *td = &s->td;
    td->set = set;
    td->n_vclass = set->n_classes * 4;
    td->img_class = malloc((size_t)set->n_images * sizeof(int));
    td->alpha_cls = calloc(set->n_alphabets, sizeof(int *));
    td->alpha_n = calloc(set->n_alphabets, sizeof(int));
    if (!td->img_class || !td->alpha_cls || !td->alpha_n) { tr_sampler_close(s); return err_set(ERR_NOMEM, "out of memory"); }
    for (int c = 0; c < set->n_classes; c++) {
        for (int i = set->class_start[c]; i < set->class_start[c + 1]; i++) td->img_class[i] = c;
        td->alpha_n[set->class_alphabet[c]]++;
    }
    for (int a = 0; a < set->n_alphabets; a++) {
        td->alpha_cls[a] = malloc((size_t)(td->alpha_n[a] + 1) * sizeof(int));
        if (!td->alpha_cls[a]) { tr_sampler_close(s); return err_set(ERR_NOMEM, "out of memory"); }
        td->alpha_n[a] = 0;
    }
    for (int c = 0; c < set->n_classes; c++) {
        int a = set->class_alphabet[c];
        td->alpha_cls[a][td->alpha_n[a]++] = c;
    }
    int rc = embed_all(o, m, set, &s->emb_all);
    if (rc) { tr_sampler_close(s); return rc; }
    *out = s;
    return 0;
}

int tr_sampler_max_tokens(const tr_sampler *s) {
    int max_q = s->o.queries_total / s->o.min_way > 1 ? s->o.queries_total / s->o.min_way : 1;
    return s->n_labels * (s->o.max_shot + max_q);
}

void tr_sampler_episode(const tr_sampler *s, rng_t *r, float *emb, int *label, int *n_sup, int *n_q, int *n_way) {
    sample_train_episode(&s->o, &s->td, s->emb_all, s->D, s->n_labels, r, emb, label, n_sup, n_q, n_way);
}
