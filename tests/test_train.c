// Training: a short run lowers the loss; an interrupted run resumed from its checkpoint ends
// with exactly the parameters of an uninterrupted one.
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "kernels/err.h"
#include "kernels/train.h"

static void tiny_config(mdl_model *m) {
    mdl_default_config(m);
    m->enc = (enc_config){.side = 28, .n_blocks = 3, .ch = {4, 8, 8}};
    for (int k = 0; k < 2; k++) {
        m->dec[k].d_in = enc_d_out(&m->enc);
        m->dec[k].d_model = 16;
        m->dec[k].d_ff = 16;
        m->dec[k].n_heads = 2;
        m->dec[k].n_layers = 1;
        m->dec[k].n_labels = 5;
    }
}

static tr_options tiny_options(const char *out) {
    tr_options o;
    tr_default_options(&o);
    o.out = out;
    o.enc_steps = 12; o.enc_batch = 32;
    o.dec_steps = 12; o.dec_batch = 4;
    o.min_way = 3; o.max_shot = 2; o.queries_total = 6;
    o.checkpoint_every_s = 0.0;  // a checkpoint after every step
    return o;
}

// Trains straight through into `a_path`, then again into b_path stopping after `stop_after`
// steps (as Ctrl-C would, but at a known step), resumes, and compares the two models.
static void check_resume(int stop_after) {
    ds_set set;
    cr_assert_eq(ds_glyphs_make(77, 12, 8, &set), 0, "%s", err_msg());
    char a_path[] = "/tmp/neuroicl-train-a-XXXXXX", b_path[] = "/tmp/neuroicl-train-b-XXXXXX";
    close(mkstemp(a_path));
    close(mkstemp(b_path));
    mdl_model a, b;
    tiny_config(&a);
    tiny_config(&b);
    cr_assert_eq(mdl_alloc(&a), 0);
    cr_assert_eq(mdl_alloc(&b), 0);
    tr_options oa = tiny_options(a_path);
    cr_assert_eq(tr_train(&oa, &set, &a), 0, "%s", err_msg());

    tr_options ob = tiny_options(b_path);
    ob.stop_after = stop_after;
    int rc = tr_train(&ob, &set, &b);
    cr_assert_eq(rc, ERR_INTERRUPTED, "expected a stop after %d steps (rc %d: %s)", stop_after, rc, err_msg());
    char ck[512];
    snprintf(ck, sizeof ck, "%s.ckpt", b_path);
    cr_assert_eq(access(ck, R_OK), 0, "no checkpoint written");
    ob.stop_after = 0;
    ob.resume = 1;
    cr_assert_eq(tr_train(&ob, &set, &b), 0, "%s", err_msg());
    cr_assert_neq(access(ck, F_OK), 0, "checkpoint left behind after finishing");
    mdl_model la, lb;
    cr_assert_eq(mdl_load(a_path, &la), 0);
    cr_assert_eq(mdl_load(b_path, &lb), 0);
    cr_expect_str_eq(la.hash, lb.hash, "resumed training (stopped after %d steps) diverged", stop_after);
    mdl_free(&a); mdl_free(&b); mdl_free(&la); mdl_free(&lb);
    ds_free(&set);
    unlink(a_path);
    unlink(b_path);
}

// 12 encoder steps, then 12 per decoder: 5 stops inside stage 1, 18 inside stage 2.
Test(train, stopped_in_the_encoder_stage_and_resumed_equals_uninterrupted, .timeout = 120) { check_resume(5); }
Test(train, stopped_in_a_decoder_stage_and_resumed_equals_uninterrupted, .timeout = 120) { check_resume(18); }

Test(train, absurd_options_are_refused) {
    ds_set set;
    cr_assert_eq(ds_glyphs_make(5, 12, 8, &set), 0);
    mdl_model m;
    tiny_config(&m);
    cr_assert_eq(mdl_alloc(&m), 0);
    tr_options o = tiny_options("/tmp/never.h5");
    o.threads = 0;
    cr_expect_eq(tr_train(&o, &set, &m), ERR_ARG);
    o = tiny_options("/tmp/never.h5");
    o.min_way = 50;
    cr_expect_eq(tr_train(&o, &set, &m), ERR_ARG);
    o = tiny_options("/tmp/never.h5");
    set.n_classes = 3;  // fewer classes than the model's labels
    cr_expect_eq(tr_train(&o, &set, &m), ERR_ARG);
    cr_expect(strstr(err_msg(), "too small"), "%s", err_msg());
    set.n_classes = 12;
    mdl_free(&m);
    ds_free(&set);
}
