#include "kernels/tensor.h"
#include <math.h>
#include <string.h>

// `omp simd reduction` lets the compiler reassociate the sum into vector lanes, which plain
// -O3 may not do for floats; the order is fixed per build, so results are reproducible.
float ts_dot(const float *a, const float *b, int n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

void ts_matvec(float *y, const float *W, const float *x, const float *b, int n_out, int n_in) {
    for (int o = 0; o < n_out; o++) {
        const float *w = W + (size_t)o * n_in;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int i = 0; i < n_in; i++) s += w[i] * x[i];
        y[o] = b ? s + b[o] : s;
    }
}

void ts_matmul_xwT(float *Y, const float *X, const float *W, const float *b, int T, int n_out,
                   int n_in) {
    for (int t = 0; t < T; t++)
        ts_matvec(Y + (size_t)t * n_out, W, X + (size_t)t * n_in, b, n_out, n_in);
}

void ts_matmul_grad_w(float *dW, float *db, const float *dY, const float *X, int T, int n_out,
                      int n_in) {
    for (int t = 0; t < T; t++) {
        const float *dy = dY + (size_t)t * n_out, *x = X + (size_t)t * n_in;
        for (int o = 0; o < n_out; o++) {
            float g = dy[o];
            if (g == 0.0f) continue;
            float *dw = dW + (size_t)o * n_in;
            for (int i = 0; i < n_in; i++) dw[i] += g * x[i];
            if (db) db[o] += g;
        }
    }
}

void ts_matmul_grad_x(float *dX, const float *dY, const float *W, int T, int n_out, int n_in) {
    for (int t = 0; t < T; t++) {
        const float *dy = dY + (size_t)t * n_out;
        float *dx = dX + (size_t)t * n_in;
        for (int o = 0; o < n_out; o++) {
            float g = dy[o];
            if (g == 0.0f) continue;
            const float *w = W + (size_t)o * n_in;
            for (int i = 0; i < n_in; i++) dx[i] += g * w[i];
        }
    }
}

float ts_l2_normalize(float *x, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
    float norm = (float)sqrt(s);
    if (norm > 0.0f) {
        float inv = 1.0f / norm;
        for (int i = 0; i < n; i++) x[i] *= inv;
    }
    return norm;
}
