// N-way K-shot episodes: index lists into a ds_set, each a pure function of
// (set, n_way, k_shot, n_query, seed, index) so every implementation sees the same tasks.
#include "datasets/dataset.h"
#include "kernels/err.h"
#include "kernels/rng.h"

#include <stdlib.h>
#include <string.h>

int ds_episode_alloc(ds_episode *ep, int n_way, int k_shot, int n_query) {
    memset(ep, 0, sizeof *ep);
    if (n_way < 1 || k_shot < 1 || n_query < 1)
        return err_set(ERR_ARG, "episode needs n_way, k_shot, n_query >= 1 (got %d, %d, %d)", n_way,
                       k_shot, n_query);
    size_t ns = (size_t)n_way * k_shot, nq = (size_t)n_way * n_query;
    ep->n_way = n_way, ep->k_shot = k_shot, ep->n_query = n_query;
    ep->support_img = malloc(sizeof(int) * ns);
    ep->support_label = malloc(sizeof(int) * ns);
    ep->query_img = malloc(sizeof(int) * nq);
    ep->query_label = malloc(sizeof(int) * nq);
    ep->classes = malloc(sizeof(int) * n_way);
    if (!ep->support_img || !ep->support_label || !ep->query_img || !ep->query_label || !ep->classes) {
        ds_episode_free(ep);
        return err_set(ERR_NOMEM, "out of memory for a %d-way %d-shot episode", n_way, k_shot);
    }
    return 0;
}

void ds_episode_free(ds_episode *ep) {
    if (!ep) return;
    free(ep->support_img);
    free(ep->support_label);
    free(ep->query_img);
    free(ep->query_label);
    free(ep->classes);
    memset(ep, 0, sizeof *ep);
}

// Shuffles (img, label) pairs together.
static int shuffle_pairs(rng_t *r, int *img, int *label, int n) {
    int *perm = malloc(sizeof(int) * 2 * n);  // (2, n): permutation, then scratch
    if (!perm) return err_set(ERR_NOMEM, "out of memory shuffling an episode");
    for (int i = 0; i < n; i++) perm[i] = i;
    rng_shuffle_int(r, perm, n);
    int *tmp = perm + n;
    for (int i = 0; i < n; i++) tmp[i] = img[perm[i]];
    memcpy(img, tmp, sizeof(int) * n);
    for (int i = 0; i < n; i++) tmp[i] = label[perm[i]];
    memcpy(label, tmp, sizeof(int) * n);
    free(perm);
    return 0;
}

int ds_episode_sample(const ds_set *set, int n_way, int k_shot, int n_query, uint64_t seed,
                      uint64_t index, ds_episode *ep) {
    if (n_way < 1 || k_shot < 1 || n_query < 1)
        return err_set(ERR_ARG, "episode needs n_way, k_shot, n_query >= 1 (got %d, %d, %d)", n_way,
                       k_shot, n_query);
    if (!set || set->n_classes < 1 || !set->class_start)
        return err_set(ERR_ARG, "episode sampled from an empty data set");
    int need = k_shot + n_query;
    int *ok = malloc(sizeof(int) * set->n_classes);  // (n_qualifying) class indices
    if (!ok) return err_set(ERR_NOMEM, "out of memory sampling an episode");
    int n_ok = 0, max_size = 0;
    for (int c = 0; c < set->n_classes; c++) {
        int sz = set->class_start[c + 1] - set->class_start[c];
        if (sz >= need) ok[n_ok++] = c;
        if (sz > max_size) max_size = sz;
    }
    if (n_ok < n_way) {
        free(ok);
        return err_set(ERR_ARG, "n_way %d > %d classes with >= %d images in %s", n_way, n_ok, need,
                       set->source[0] ? set->source : "(unnamed set)");
    }
    // A zeroed episode is allocated here; a reused one must have the same shape so the
    // caller's buffers are never silently resized.
    if (!ep->support_img) {
        int rc = ds_episode_alloc(ep, n_way, k_shot, n_query);
        if (rc) { free(ok); return rc; }
    } else if (ep->n_way != n_way || ep->k_shot != k_shot || ep->n_query != n_query) {
        free(ok);
        return err_set(ERR_ARG, "episode allocated as %d-way %d-shot %d-query, sampled as %d-way %d-shot %d-query",
                       ep->n_way, ep->k_shot, ep->n_query, n_way, k_shot, n_query);
    }
    int *pick = malloc(sizeof(int) * (max_size > 0 ? max_size : 1));  // (class size) scratch
    if (!pick) {
        free(ok);
        return err_set(ERR_NOMEM, "out of memory sampling an episode");
    }
    rng_t r;
    rng_seed2(&r, seed, index);
    // Partial Fisher-Yates: the i-th drawn class gets label i, so the label permutation is
    // the (uniformly random) draw order itself.
    for (int i = 0; i < n_way; i++) {
        int j = i + (int)rng_below(&r, (uint32_t)(n_ok - i));
        int t = ok[i]; ok[i] = ok[j]; ok[j] = t;
        ep->classes[i] = ok[i];
    }
    for (int lab = 0; lab < n_way; lab++) {
        int c = ep->classes[lab], c0 = set->class_start[c], sz = set->class_start[c + 1] - c0;
        for (int i = 0; i < sz; i++) pick[i] = c0 + i;
        for (int i = 0; i < need; i++) {
            int j = i + (int)rng_below(&r, (uint32_t)(sz - i));
            int t = pick[i]; pick[i] = pick[j]; pick[j] = t;
        }
        for (int s = 0; s < k_shot; s++) {
            ep->support_img[lab * k_shot + s] = pick[s];
            ep->support_label[lab * k_shot + s] = lab;
        }
        for (int q = 0; q < n_query; q++) {
            ep->query_img[lab * n_query + q] = pick[k_shot + q];
            ep->query_label[lab * n_query + q] = lab;
        }
    }
    free(pick);
    free(ok);
    int rc = shuffle_pairs(&r, ep->support_img, ep->support_label, n_way * k_shot);
    if (!rc) rc = shuffle_pairs(&r, ep->query_img, ep->query_label, n_way * n_query);
    return rc;
}
