#include "kernels/model.h"
#include "kernels/err.h"
#include "kernels/h5io.h"
#include "kernels/tensor.h"
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mdl_default_config(mdl_model *m) {
    memset(m, 0, sizeof *m);
    m->enc = (enc_config){.side = 28, .n_blocks = 4, .ch = {32, 32, 64, 64}};
    tf_config d = {.d_in = 64, .d_model = 64, .n_layers = 2, .n_heads = 4, .d_ff = 128,
                   .n_labels = 20, .attn = TF_LINEAR};
    m->dec[TF_LINEAR] = d;
    d.attn = TF_SOFTMAX;
    m->dec[TF_SOFTMAX] = d;
}

int mdl_alloc(mdl_model *m) {
    m->enc_params = calloc(enc_n_params(&m->enc), sizeof(float));
    for (int k = 0; k < 2; k++) {
        int rc = tf_config_check(&m->dec[k]);
        if (rc) return rc;
        m->dec_params[k] = calloc(tf_n_params(&m->dec[k]), sizeof(float));
    }
    if (!m->enc_params || !m->dec_params[0] || !m->dec_params[1]) {
        mdl_free(m);
        return err_set(ERR_NOMEM, "out of memory for the model parameters");
    }
    return 0;
}

void mdl_free(mdl_model *m) {
    free(m->enc_params);
    free(m->dec_params[0]);
    free(m->dec_params[1]);
    m->enc_params = m->dec_params[0] = m->dec_params[1] = NULL;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 0x100000001b3ULL; }
    return h;
}

void mdl_hash(mdl_model *m) {
    uint64_t h = 0xcbf29ce484222325ULL;
    int ecfg[2 + ENC_MAX_BLOCKS] = {m->enc.side, m->enc.n_blocks};
    for (int i = 0; i < m->enc.n_blocks; i++) ecfg[2 + i] = m->enc.ch[i];
    h = fnv1a(h, ecfg, sizeof ecfg);
    h = fnv1a(h, m->enc_params, enc_n_params(&m->enc) * sizeof(float));
    for (int k = 0; k < 2; k++) {
        const tf_config *c = &m->dec[k];
        int dcfg[7] = {c->d_in, c->d_model, c->n_layers, c->n_heads, c->d_ff, c->n_labels, (int)c->attn};
        h = fnv1a(h, dcfg, sizeof dcfg);
        h = fnv1a(h, m->dec_params[k], tf_n_params(c) * sizeof(float));
    }
    snprintf(m->hash, sizeof m->hash, "%016llx", (unsigned long long)h);
}

void mdl_embed(const mdl_model *m, int B, const float *img, float *emb) {
    const int d = enc_d_out(&m->enc);
    enc_forward(&m->enc, m->enc_params, B, img, NULL, emb);
    for (int b = 0; b < B; b++) ts_l2_normalize(emb + (size_t)b * d, d);
}

// ---------------------------------------------------------------- HDF5 ------------------

static const char *dec_group[2] = {"decoder_linear", "decoder_softmax"};

int mdl_save(const char *path, mdl_model *m, const char *note) {
    return mdl_save_ex(path, m, note, NULL, NULL);
}

int mdl_save_ex(const char *path, mdl_model *m, const char *note,
                int (*extra)(int64_t h5file, void *ctx), void *ctx) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    mdl_hash(m);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return err_set(ERR_IO, "cannot write model file %s (check the directory exists and is writable)", path);
    int bad = h5io_write_str(f, "format", "neuroicl-model") || h5io_write_i64(f, "format_version", 1) ||
              h5io_write_str(f, "content_hash", m->hash) || (note && h5io_write_str(f, "training", note));
    hid_t g = H5Gcreate2(f, "encoder", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    bad |= g < 0 || h5io_write_i64(g, "side", m->enc.side) || h5io_write_i64(g, "n_blocks", m->enc.n_blocks);
    for (int i = 0; i < m->enc.n_blocks && !bad; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "ch%d", i);
        bad |= h5io_write_i64(g, nm, m->enc.ch[i]);
    }
    bad |= bad || h5io_write_f32(g, "params", m->enc_params, enc_n_params(&m->enc));
    if (g >= 0) H5Gclose(g);
    for (int k = 0; k < 2 && !bad; k++) {
        const tf_config *c = &m->dec[k];
        g = H5Gcreate2(f, dec_group[k], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        bad |= g < 0 || h5io_write_i64(g, "d_in", c->d_in) || h5io_write_i64(g, "d_model", c->d_model) ||
               h5io_write_i64(g, "n_layers", c->n_layers) || h5io_write_i64(g, "n_heads", c->n_heads) ||
               h5io_write_i64(g, "d_ff", c->d_ff) || h5io_write_i64(g, "n_labels", c->n_labels) ||
               h5io_write_str(g, "attention", k == TF_LINEAR ? "linear-relu" : "softmax") ||
               h5io_write_f32(g, "params", m->dec_params[k], tf_n_params(c));
        if (g >= 0) H5Gclose(g);
    }
    if (!bad && extra) bad |= extra((int64_t)f, ctx) != 0;
    bad |= H5Fclose(f) < 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return err_set(ERR_IO, "cannot write model file %s: %s", path, bad ? "HDF5 write failed" : strerror(e));
    }
    return 0;
}

int mdl_load(const char *path, mdl_model *m) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    memset(m, 0, sizeof *m);
    if (access(path, R_OK) != 0)
        return err_set(ERR_IO, "model file %s: %s (train one with `neuroicl train --out %s`)", path, strerror(errno), path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return err_set(ERR_FORMAT, "model file %s is not a readable HDF5 file (retrain it with `neuroicl train`)", path);
    int bad = 0;
    hid_t g = H5Gopen2(f, "encoder", H5P_DEFAULT);
    bad |= g < 0 || h5io_read_int(g, "side", &m->enc.side) || h5io_read_int(g, "n_blocks", &m->enc.n_blocks) ||
           m->enc.n_blocks < 1 || m->enc.n_blocks > ENC_MAX_BLOCKS || m->enc.side < 4 || m->enc.side > 1024;
    for (int i = 0; !bad && i < m->enc.n_blocks; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "ch%d", i);
        bad |= h5io_read_int(g, nm, &m->enc.ch[i]) || m->enc.ch[i] < 1 || m->enc.ch[i] > 4096;
    }
    for (int k = 0; k < 2 && !bad; k++) {
        tf_config *c = &m->dec[k];
        hid_t h = H5Gopen2(f, dec_group[k], H5P_DEFAULT);
        bad |= h < 0 || h5io_read_int(h, "d_in", &c->d_in) || h5io_read_int(h, "d_model", &c->d_model) ||
               h5io_read_int(h, "n_layers", &c->n_layers) || h5io_read_int(h, "n_heads", &c->n_heads) ||
               h5io_read_int(h, "d_ff", &c->d_ff) || h5io_read_int(h, "n_labels", &c->n_labels);
        c->attn = (tf_attn)k;
        if (h >= 0) H5Gclose(h);
        bad |= !bad && (tf_config_check(c) != 0 || c->d_in != enc_d_out(&m->enc));
    }
    if (bad) {
        if (g >= 0) H5Gclose(g);
        H5Fclose(f);
        return err_set(ERR_FORMAT, "model file %s has a missing or invalid configuration (retrain it with `neuroicl train`)", path);
    }
    int rc = mdl_alloc(m);
    if (rc) { H5Gclose(g); H5Fclose(f); return rc; }
    bad |= h5io_read_f32(g, "params", m->enc_params, enc_n_params(&m->enc));
    H5Gclose(g);
    for (int k = 0; k < 2 && !bad; k++) {
        hid_t h = H5Gopen2(f, dec_group[k], H5P_DEFAULT);
        bad |= h < 0 || h5io_read_f32(h, "params", m->dec_params[k], tf_n_params(&m->dec[k]));
        if (h >= 0) H5Gclose(h);
    }
    H5Fclose(f);
    if (bad) {
        mdl_free(m);
        return err_set(ERR_FORMAT, "model file %s: parameter arrays missing or of the wrong size (retrain it)", path);
    }
    mdl_hash(m);
    return 0;
}
