// dataset — a set of labelled 28x28 grey images grouped by class (an Omniglot split or the
// procedural glyphs), and the N-way K-shot episodes sampled from it.
#ifndef NEUROICL_DATASET_H
#define NEUROICL_DATASET_H
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define DS_SIDE 28
#define DS_PIX (DS_SIDE * DS_SIDE)

typedef struct {
    int n_classes;
    int n_images;
    int n_alphabets;
    float *pixels;       // (n_images, DS_PIX) ink fraction in [0,1], 1 = ink (area average)
    int *class_start;    // (n_classes + 1) images of class c: [class_start[c], class_start[c+1])
    int *class_alphabet; // (n_classes) alphabet index of each class
    char **alphabet;     // (n_alphabets) alphabet names
    char source[512];    // e.g. "omniglot:/path/images_evaluation.zip" or "glyphs:seed=1"
} ds_set;

// Omniglot split ("background" or "evaluation") from `dir`, which holds the official zips
// images_<split>.zip or an extracted folder images_<split>/. Decoded arrays are cached as
// HDF5 in cache_dir (NULL = no cache) keyed by the archive's size and mtime.
int ds_omniglot_load(const char *dir, const char *split, const char *cache_dir, ds_set *out);
// Finds the Omniglot directory: `explicit_dir` if non-NULL, else $NEUROICL_DATA, else
// ../shared/data/omniglot. Writes it to out (size n). Returns 0 if found, ERR_IO if not.
int ds_omniglot_find(const char *explicit_dir, char *out, size_t n);
// Decodes one Omniglot PNG (1-bit or 8-bit grey, any size) held in memory into a DS_SIDE
// square by area averaging; `name` is only used in error messages. ink_pixels (may be NULL)
// receives the number of ink pixels at full resolution.
int ds_png_decode(const unsigned char *bytes, size_t n, const char *name, float *out_pix,
                  int *ink_pixels);

// The procedural stroke glyphs: n_classes classes (a class = a stroke program), per_class
// jittered drawings each, all determined by seed. Alphabets group classes by 20.
int ds_glyphs_make(uint64_t seed, int n_classes, int per_class, ds_set *out);

void ds_free(ds_set *s);

// Glyph "splits": two seeds, so the evaluation programs never occur in training; sized like
// Omniglot's background (964 classes) and evaluation (659) splits, 20 drawings each.
#define DS_GLYPH_SEED_BACKGROUND 0x6261636bULL
#define DS_GLYPH_SEED_EVALUATION 0x6576616cULL
// Loads `split` ("background"/"evaluation") for `task`: "omniglot" (found via
// ds_omniglot_find(data) or an error), "glyphs", or "auto" (Omniglot when found, else glyphs,
// saying which on log). dir (n bytes, may be NULL) receives the Omniglot directory or "".
int ds_load_task(const char *task, const char *data, const char *split, ds_set *set, FILE *log,
                 char *dir, size_t n);
// Where decoded-image caches go: $NEUROICL_CACHE, else ./cache.
const char *ds_cache_dir(void);

// The official 20-way within-alphabet one-shot benchmark (Lake et al. 2015, all_runs.zip):
// 20 runs, each with one training drawing per class and 20 test drawings to classify.
#define DS_LAKE_WAY 20
typedef struct {
    char name[16];                       // "run01"
    float train[DS_LAKE_WAY * DS_PIX];   // (DS_LAKE_WAY, DS_PIX) training/classNN.png, class NN-1
    float test[DS_LAKE_WAY * DS_PIX];    // (DS_LAKE_WAY, DS_PIX) test/itemNN.png, item NN-1
    int test_label[DS_LAKE_WAY];         // (DS_LAKE_WAY) true training class of each test item
} ds_lake_run;

// Reads all_runs.zip, or a directory holding all_runs.zip, all_runs/runNN/ or runNN/.
// *runs is malloc'd (n_runs entries); release with free().
int ds_lake_runs_load(const char *all_runs_zip_or_dir, ds_lake_run **runs, int *n_runs);

// An N-way K-shot episode: indices into a ds_set. Labels 0..n_way-1 are assigned to the
// sampled classes by a random permutation. Support order is shuffled; queries are grouped
// in random order too. Fully determined by (set, n_way, k_shot, n_query, seed, index).
typedef struct {
    int n_way, k_shot, n_query;  // n_query per class
    int *support_img;   // (n_way * k_shot)
    int *support_label; // (n_way * k_shot)
    int *query_img;     // (n_way * n_query)
    int *query_label;   // (n_way * n_query)
    int *classes;       // (n_way) class index in the set for label 0..n_way-1
} ds_episode;

int ds_episode_alloc(ds_episode *ep, int n_way, int k_shot, int n_query);
// Needs at least k_shot + n_query images in each chosen class; classes with fewer are
// never chosen. ERR_ARG if fewer than n_way classes qualify.
int ds_episode_sample(const ds_set *set, int n_way, int k_shot, int n_query, uint64_t seed,
                      uint64_t index, ds_episode *ep);
void ds_episode_free(ds_episode *ep);

#endif
