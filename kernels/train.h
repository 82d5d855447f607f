// train (tr_) — training the default model in C, in three stages:
//   1. encoder: prototypical-network episodes (many classes, 2 supports + 2 queries each,
//      cosine similarity to the class means of L2-normalised embeddings) over the background
//      split's characters, each rotation by a multiple of 90 degrees a class of its own,
//      with small random shifts;
//   2. decoder_linear and 3. decoder_softmax: episodic meta-training on N-way K-shot
//      episodes (N and K drawn per episode, half of them within one alphabet) over the
//      frozen encoder's embeddings of the same rotated classes.
// Stage 1 trains the expensive convolutional encoder with the cheapest few-shot objective;
// stages 2–3, on cached embeddings, teach the decoders to learn in context. Everything draws from rng streams keyed by (seed, stage, step), so a
// resumed run continues exactly where a checkpoint left off.
#ifndef NEUROICL_TRAIN_H
#define NEUROICL_TRAIN_H
#include <stdint.h>
#include <stdio.h>
#include "datasets/dataset.h"
#include "kernels/model.h"
#include "kernels/rng.h"

typedef struct {
    int threads;
    uint64_t seed;
    int enc_steps, enc_batch;  // stage 1
    float enc_lr;
    int dec_steps, dec_batch;  // stages 2 and 3 (episodes per step)
    float dec_lr;
    float weight_decay;
    int min_way, max_shot, queries_total;  // episode shapes for meta-training
    int max_shift;             // augmentation: random shift in pixels, each axis
    const char *out;           // model file; checkpoints go to <out>.ckpt
    int resume;                // continue from <out>.ckpt when present
    const char *init_from;     // start from this model file's encoder (NULL = random)
    double checkpoint_every_s;
    FILE *log;                 // progress lines (NULL = silent)
    int log_tty;               // 1: rewrite one line with \r; 0: plain periodic lines
    volatile int *stop;        // set asynchronously (Ctrl-C) to checkpoint and return
    int stop_after;            // > 0: checkpoint and return after this many steps in this
                               // invocation (time-sliced training; a deterministic Ctrl-C)
} tr_options;

void tr_default_options(tr_options *o);
// Trains m (configs set, params allocated) on `train` (the background split). Saves the
// model to o->out at the end. Returns ERR_INTERRUPTED after a checkpoint when *o->stop.
int tr_train(const tr_options *o, const ds_set *train, mdl_model *m);

// Evaluation-free helper shared with tests: rotated (k * 90 deg) and shifted copy of a
// DS_SIDE image; pixels shifted in from outside are 0.
void tr_augment(const float *src /*(DS_PIX)*/, int rot, int dx, int dy, float *dst /*(DS_PIX)*/);

// The decoder stages' episode sampler, for other fine-tuning stages (kernels/qat.c): the
// rotated classes of `set` embedded once with m's encoder, episodes drawn exactly as in
// stage 2 (N in min_way..n_labels, K in 1..max_shot, half within one alphabet).
typedef struct tr_sampler tr_sampler;
int tr_sampler_open(const tr_options *o, const ds_set *set, const mdl_model *m, int n_labels, tr_sampler **out);
// emb: (n_labels * (max_shot + max(1, queries_total / min_way)), d_in); returns the shape.
void tr_sampler_episode(const tr_sampler *s, rng_t *r, float *emb, int *label, int *n_sup, int *n_q, int *n_way);
int tr_sampler_max_tokens(const tr_sampler *s);
void tr_sampler_close(tr_sampler *s);

#endif
