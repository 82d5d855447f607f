// tensor — the few dense float kernels the model needs. Row-major; a weight W (n_out, n_in)
// maps x (n_in) to W x. Loops are written so gcc -O3 vectorises the inner one.
#ifndef NEUROICL_TENSOR_H
#define NEUROICL_TENSOR_H

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
// In place: x /= ||x||; returns the norm before scaling (0-vector left unchanged).
float ts_l2_normalize(float *x, int n);

#endif
