#include "tests/fq_support.h"
#include <stdlib.h>
#include <string.h>

float *fqt_random_model(const tf_config *c, uint64_t seed, float noise) {
    size_t np = tf_n_params(c);
    float *p = malloc(np * sizeof(float));
    rng_t r;
    rng_seed(&r, seed);
    tf_init(c, p, &r);
    for (size_t i = 0; i < np; i++) p[i] += noise * rng_normal(&r);
    return p;
}

void fqt_set_scales(fq_model *q, const tf_config *c, double s_kqv) {
    memset(q, 0, sizeof *q);
    q->s_x = 150;
    q->s_log = 150;
    for (int l = 0; l < c->n_layers; l++) {
        q->s_q[l] = q->s_k[l] = q->s_v[l] = s_kqv;
        q->s_z[l] = q->s_h[l] = 150;
    }
}
