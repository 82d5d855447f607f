// tensor — the few dense float kernels the model needs. Row-major; a weight W (n_out, n_in)
// maps x (n_in) to W x. Loops are written so gcc -O3 vectorises the inner one.
#ifndef NEUROICL_TENSOR_H
#define NEUROICL_TENSOR_H
#include <stdint.h>
#include <string.h>

// y (n_out) = W x (+ b when b != NULL)
void ts_matvec(float *y, const float *W, const float *x, const float *b, int n_out, int n_in);
// Y (T, n_out) = X (T, n_in) W^T (+ b)
void ts_matmul_xwT(float *Y, const float *X, const float *W, const float *b, int T, int n_out,
                   int n_in);
// dW (n_out, n_in) += dY^T X; db (n_out) += column sums of dY (when db != NULL)
void ts_matmul_grad_w(float *dW, float *db, const float *dY, const float *X, int T, int n_out,
                      int n_in);
// dX (T, n_in) += dY (T, n_out) W
void ts_matmul_grad_x(float *dX, const float *dY, const float *W, int T, int n_out, int n_in);
float ts_dot(const float *a, const float *b, int n);

// exp(x) for x in about [-87, 88], relative error ~2e-7: Cody–Waite range reduction
// x = n ln2 + r and Cephes' degree-5 polynomial for e^r (constants from Moshier's Cephes
// expf). Inline and branch-free, so a loop over it vectorises where libm's expf does not.
static inline float ts_exp(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    const float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    const union { int32_t i; float f; } two_n = {.i = ((int32_t)n + 127) << 23};  // 2^n
    return y * two_n.f;
}
// In place: x /= ||x||; returns the norm before scaling (0-vector left unchanged).
float ts_l2_normalize(float *x, int n);

#endif
