// A small, randomly initialised model (encoder of 2 conv blocks, both decoders) for tests that
// need an mdl_model but no training.
#ifndef NEUROICL_TESTS_MODEL_SUPPORT_H
#define NEUROICL_TESTS_MODEL_SUPPORT_H
#include <stdint.h>
#include "kernels/model.h"

// Both decoders get d_model, d_ff, n_heads, n_layers; asserts (Criterion) on allocation failure.
mdl_model tst_small_model(uint64_t seed, int d_model, int d_ff, int n_heads, int n_layers);

#endif
