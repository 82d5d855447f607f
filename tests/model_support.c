#include "tests/model_support.h"
#include <criterion/criterion.h>
#include "kernels/err.h"

mdl_model tst_small_model(uint64_t seed, int d_model, int d_ff, int n_heads, int n_layers) {
    mdl_model m;
    mdl_default_config(&m);
    m.enc = (enc_config){.side = 28, .n_blocks = 2, .ch = {4, 8}};
    for (int k = 0; k < 2; k++) {
        m.dec[k].d_in = enc_d_out(&m.enc);
        m.dec[k].d_model = d_model;
        m.dec[k].d_ff = d_ff;
        m.dec[k].n_heads = n_heads;
        m.dec[k].n_layers = n_layers;
    }
    cr_assert_eq(mdl_alloc(&m), 0, "%s", err_msg());
    rng_t r;
    rng_seed(&r, seed);
    enc_init(&m.enc, m.enc_params, &r);
    for (int k = 0; k < 2; k++) tf_init(&m.dec[k], m.dec_params[k], &r);
    return m;
}
