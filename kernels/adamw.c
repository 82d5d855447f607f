#include "kernels/adamw.h"
#include "kernels/err.h"
#include <math.h>
#include <stdlib.h>

int adamw_init(adamw_state *s, size_t n, float weight_decay) {
    s->n = n;
    s->m = calloc(n, sizeof(float));
    s->v = calloc(n, sizeof(float));
    s->step = 0;
    s->beta1 = 0.9f; s->beta2 = 0.999f; s->eps = 1e-8f;
    s->weight_decay = weight_decay;
    if (!s->m || !s->v) { adamw_free(s); return err_set(ERR_NOMEM, "out of memory for optimiser state"); }
    return 0;
}

void adamw_update(adamw_state *s, float *p, const float *grad, float lr) {
    s->step++;
    const float b1 = s->beta1, b2 = s->beta2;
    const float c1 = 1.0f - powf(b1, (float)s->step), c2 = 1.0f - powf(b2, (float)s->step);
    for (size_t i = 0; i < s->n; i++) {
        float g = grad[i];
        s->m[i] = b1 * s->m[i] + (1.0f - b1) * g;
        s->v[i] = b2 * s->v[i] + (1.0f - b2) * g * g;
        float mh = s->m[i] / c1, vh = s->v[i] / c2;
        p[i] -= lr * (mh / (sqrtf(vh) + s->eps) + s->weight_decay * p[i]);
    }
}

void adamw_free(adamw_state *s) {
    free(s->m);
    free(s->v);
    s->m = s->v = NULL;
}
