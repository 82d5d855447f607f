// Model file round trip and refusal of bad files; augmentation geometry.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernels/err.h"
#include "kernels/model.h"
#include "tests/model_support.h"
#include "kernels/train.h"

static mdl_model small_model(uint64_t seed) { return tst_small_model(seed, 16, 24, 2, 1); }

Test(model, save_then_load_gives_identical_parameters_and_hash) {
    mdl_model a = small_model(1), b;
    char path[] = "/tmp/neuroicl-model-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    cr_assert_eq(mdl_save(path, &a, "test"), 0, "%s", err_msg());
    cr_assert_eq(mdl_load(path, &b), 0, "%s", err_msg());
    cr_assert_str_eq(a.hash, b.hash);
    cr_assert_eq(memcmp(a.enc_params, b.enc_params, enc_n_params(&a.enc) * sizeof(float)), 0);
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(b.dec[k].d_model, 16);
        cr_assert_eq(memcmp(a.dec_params[k], b.dec_params[k], tf_n_params(&a.dec[k]) * sizeof(float)), 0);
    }
    // A one-bit change in one parameter changes the content hash.
    b.dec_params[1][5] = -b.dec_params[1][5];
    mdl_hash(&b);
    cr_assert_str_neq(a.hash, b.hash);
    mdl_free(&a);
    mdl_free(&b);
    unlink(path);
}

Test(model, missing_and_corrupt_files_are_refused_with_the_file_named) {
    mdl_model m;
    cr_assert_eq(mdl_load("/nonexistent/model.h5", &m), ERR_IO);
    cr_assert(strstr(err_msg(), "/nonexistent/model.h5"));
    char path[] = "/tmp/neuroicl-model-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_eq(write(fd, "garbage", 7), 7);
    close(fd);
    cr_assert_eq(mdl_load(path, &m), ERR_FORMAT);
    cr_assert(strstr(err_msg(), path));
    // A real model truncated to half its size is refused too.
    mdl_model a = small_model(2);
    cr_assert_eq(mdl_save(path, &a, NULL), 0);
    FILE *f = fopen(path, "r+");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    cr_assert_eq(truncate(path, n / 2), 0);
    cr_assert_neq(mdl_load(path, &m), 0);
    mdl_free(&a);
    unlink(path);
}

Test(model, save_into_missing_directory_fails_without_leaving_files) {
    mdl_model a = small_model(3);
    cr_assert_eq(mdl_save("/nonexistent/dir/m.h5", &a, NULL), ERR_IO);
    cr_assert(strstr(err_msg(), "/nonexistent/dir/m.h5"));
    mdl_free(&a);
}

Test(augment, four_quarter_turns_are_the_identity_and_one_turn_moves_a_pixel) {
    float a[DS_PIX] = {0}, b[DS_PIX], c[DS_PIX];
    a[2 * DS_SIDE + 5] = 1.0f;  // (x=5, y=2)
    memcpy(c, a, sizeof a);
    for (int i = 0; i < 4; i++) {
        tr_augment(c, 1, 0, 0, b);
        memcpy(c, b, sizeof b);
    }
    cr_assert_eq(memcmp(a, c, sizeof a), 0);
    tr_augment(a, 2, 0, 0, b);  // half turn: (x, y) -> (27 - x, 27 - y)
    cr_assert_eq(b[(DS_SIDE - 1 - 2) * DS_SIDE + (DS_SIDE - 1 - 5)], 1.0f);
    tr_augment(a, 0, 3, -1, b);  // shift right 3, up 1: (5, 2) -> (8, 1)
    cr_assert_eq(b[1 * DS_SIDE + 8], 1.0f);
    float sum = 0;
    for (int i = 0; i < DS_PIX; i++) sum += b[i];
    cr_assert_eq(sum, 1.0f);
    tr_augment(a, 0, 0, -3, b);  // shifted out of the image: all zero
    sum = 0;
    for (int i = 0; i < DS_PIX; i++) sum += b[i];
    cr_assert_eq(sum, 0.0f);
}
