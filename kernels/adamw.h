// adamw — AdamW (Loshchilov & Hutter 2019) over one flat parameter array.
#ifndef NEUROICL_ADAMW_H
#define NEUROICL_ADAMW_H
#include <stddef.h>

typedef struct {
    size_t n;
    float *m;  // (n) first moment
    float *v;  // (n) second moment
    long step; // updates done (bias correction)
    float beta1, beta2, eps, weight_decay;
} adamw_state;

int adamw_init(adamw_state *s, size_t n, float weight_decay);
// p -= lr * (m_hat / (sqrt(v_hat) + eps) + wd * p); grad is read, not cleared.
void adamw_update(adamw_state *s, float *p, const float *grad, float lr);
void adamw_free(adamw_state *s);

#endif
