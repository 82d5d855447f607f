// Shared set-up of the fixed-point tests (test_quant.c, test_qat.c): a random float model and
// hand-chosen quantization scales under which every activation stays in its integer range.
#ifndef NEUROICL_TESTS_FQ_SUPPORT_H
#define NEUROICL_TESTS_FQ_SUPPORT_H
#include <stdint.h>
#include "kernels/quant.h"

// tf_init weights plus noise·N(0,1) on every parameter; caller frees.
float *fqt_random_model(const tf_config *c, uint64_t seed, float noise);
// Ratios of scales across a connection stay near 1: an 8-bit mantissa with an exponent
// >= -8 cannot hold a weight much smaller than 2^-7 (the calibration keeps them so too).
void fqt_set_scales(fq_model *q, const tf_config *c, double s_kqv);

#endif
