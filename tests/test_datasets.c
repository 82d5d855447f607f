// Tests for datasets/: PNG decoding and area downsampling against independently computed
// values, Omniglot loading (zip, folder, cache), the official one-shot runs, glyphs, episodes.
#include "datasets/dataset.h"
#include "kernels/err.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#define DATA "../shared/data/omniglot"
#define EVAL_ZIP DATA "/images_evaluation.zip"
#define FIRST_PNG "images_evaluation/Angelic/character01/0965_01.png"

static int have_data(void) {
    struct stat st;
    return stat(EVAL_ZIP, &st) == 0 && stat(DATA "/images_background.zip", &st) == 0;
}

#define NEED_DATA() \
    do { if (!have_data()) cr_skip_test("Omniglot not found at " DATA); } while (0)

// Reads one zip entry with libzip directly (not through the code under test).
static unsigned char *zip_entry(const char *zpath, const char *name, size_t *n) {
    zip_t *z = zip_open(zpath, ZIP_RDONLY, NULL);
    cr_assert_not_null(z, "cannot open %s", zpath);
    zip_stat_t st;
    cr_assert_eq(zip_stat(z, name, 0, &st), 0, "no %s in %s", name, zpath);
    unsigned char *b = malloc(st.size);
    zip_file_t *f = zip_fopen(z, name, 0);
    cr_assert_not_null(f);
    cr_assert_eq(zip_fread(f, b, st.size), (zip_int64_t)st.size);
    zip_fclose(f);
    zip_close(z);
    *n = st.size;
    return b;
}

static void write_bytes(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void mkdirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') { *p = 0; mkdir(buf, 0777); *p = '/'; }
    mkdir(buf, 0777);
}

static void rm_rf(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static char *make_tmpdir(void) {
    static char t[64];
    snprintf(t, sizeof t, "/tmp/neuroicl-dstest-XXXXXX");
    cr_assert_not_null(mkdtemp(t));
    return t;
}

// Encodes a grey image with libpng's simplified writer.
static unsigned char *png_from_grey(const unsigned char *g, int w, int h, unsigned fmt, size_t *n) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = fmt;
    png_alloc_size_t sz = 0;
    unsigned char *rgb = NULL;
    const void *src = g;
    if (fmt == PNG_FORMAT_RGB) {
        rgb = malloc((size_t)w * h * 3);
        for (int i = 0; i < w * h; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = g[i];
        src = rgb;
    }
    cr_assert(png_image_write_get_memory_size(im, sz, 0, src, 0, NULL));
    unsigned char *b = malloc(sz);
    cr_assert(png_image_write_to_memory(&im, b, &sz, 0, src, 0, NULL));
    free(rgb);
    *n = sz;
    return b;
}

/* ------------------------------------------------------------------ PNG decoding */

Test(datasets, png_real_png_ink_count_matches_independent_decode) {
    NEED_DATA();
    size_t n;
    unsigned char *b = zip_entry(EVAL_ZIP, FIRST_PNG, &n);
    // Independent decode: libpng's simplified API, full resolution, 8-bit grey.
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_memory(&im, b, n));
    cr_assert_eq(im.width, 105);
    cr_assert_eq(im.height, 105);
    im.format = PNG_FORMAT_GRAY;
    unsigned char *g = malloc(PNG_IMAGE_SIZE(im));
    cr_assert(png_image_finish_read(&im, NULL, g, 0, NULL));
    int black = 0;
    for (int i = 0; i < 105 * 105; i++) black += g[i] < 128;
    free(g);

    float pix[DS_PIX];
    int ink = -1;
    cr_assert_eq(ds_png_decode(b, n, "x.png", pix, &ink), 0, "%s", err_msg());
    cr_assert_eq(ink, black);
    cr_assert_gt(black, 100);
    // Area averaging of a binary image conserves ink: sum(out) * (105/28)^2 = ink pixels.
    double sum = 0;
    for (int i = 0; i < DS_PIX; i++) {
        cr_assert(pix[i] >= 0 && pix[i] <= 1);
        sum += pix[i];
    }
    cr_assert_float_eq(sum * (105.0 * 105.0) / DS_PIX, (double)black, 1e-2);
    free(b);
}

// 42 -> 28 is a factor 1.5: each output pixel covers 1.5 x 1.5 source pixels, so a source
// pixel straddling two outputs splits its ink by overlap area.
Test(datasets, png_area_downsampling_hand_computed) {
    unsigned char g[42 * 42];
    memset(g, 255, sizeof g);
    g[0 * 42 + 0] = 0;   // wholly inside output (0,0): 1 / 2.25
    g[1 * 42 + 1] = 0;   // a quarter in each of outputs (0,0),(0,1),(1,0),(1,1): 0.25 / 2.25
    g[10 * 42 + 20] = 0; // x in [20,21) -> output 13 covers [19.5,21): whole; y [10,11) -> out 6 [9,10.5) half, out 7 half
    size_t n;
    unsigned char *png = png_from_grey(g, 42, 42, PNG_FORMAT_GRAY, &n);
    float pix[DS_PIX];
    int ink = 0;
    cr_assert_eq(ds_png_decode(png, n, "made.png", pix, &ink), 0, "%s", err_msg());
    cr_assert_eq(ink, 3);
    cr_assert_float_eq(pix[0], (1.0 + 0.25) / 2.25, 1e-6);
    cr_assert_float_eq(pix[1], 0.25 / 2.25, 1e-6);
    cr_assert_float_eq(pix[DS_SIDE], 0.25 / 2.25, 1e-6);
    cr_assert_float_eq(pix[DS_SIDE + 1], 0.25 / 2.25, 1e-6);
    cr_assert_float_eq(pix[6 * DS_SIDE + 13], 0.5 / 2.25, 1e-6);
    cr_assert_float_eq(pix[7 * DS_SIDE + 13], 0.5 / 2.25, 1e-6);
    cr_assert_float_eq(pix[7 * DS_SIDE + 14], 0.0, 1e-7);
    free(png);

    // Mid grey is fractional ink; same through an RGB file.
    memset(g, 102, sizeof g);  // ink 1 - 102/255 = 0.6 everywhere
    png = png_from_grey(g, 42, 42, PNG_FORMAT_RGB, &n);
    cr_assert_eq(ds_png_decode(png, n, "rgb.png", pix, NULL), 0, "%s", err_msg());
    for (int i = 0; i < DS_PIX; i++) cr_assert_float_eq(pix[i], 0.6, 2e-3, "pixel %d = %f", i, pix[i]);
    free(png);
}

Test(datasets, png_upsampling_small_image) {
    // 14x14 with one black pixel: it covers exactly a 2x2 block of outputs.
    unsigned char g[14 * 14];
    memset(g, 255, sizeof g);
    g[3 * 14 + 5] = 0;
    size_t n;
    unsigned char *png = png_from_grey(g, 14, 14, PNG_FORMAT_GRAY, &n);
    float pix[DS_PIX];
    cr_assert_eq(ds_png_decode(png, n, "small.png", pix, NULL), 0, "%s", err_msg());
    double sum = 0;
    for (int i = 0; i < DS_PIX; i++) sum += pix[i];
    cr_assert_float_eq(sum, 4.0, 1e-5);
    cr_assert_float_eq(pix[6 * DS_SIDE + 10], 1.0, 1e-6);
    cr_assert_float_eq(pix[7 * DS_SIDE + 11], 1.0, 1e-6);
    free(png);
}

Test(datasets, png_truncated_png_is_format_error_naming_file) {
    unsigned char g[42 * 42];
    for (int i = 0; i < 42 * 42; i++) g[i] = (unsigned char)(i * 37);
    size_t n;
    unsigned char *png = png_from_grey(g, 42, 42, PNG_FORMAT_GRAY, &n);
    float pix[DS_PIX];
    size_t cuts[] = {n / 2, n - 13, 20};
    for (int k = 0; k < 3; k++) {
        err_clear();
        int rc = ds_png_decode(png, cuts[k], "cut_short.png", pix, NULL);
        cr_assert_eq(rc, ERR_FORMAT, "cut at %zu of %zu gave %d", cuts[k], n, rc);
        cr_assert_not_null(strstr(err_msg(), "cut_short.png"), "message: %s", err_msg());
        cr_assert_null(strchr(err_msg(), '\n'));
    }
    free(png);
}

Test(datasets, png_non_png_is_format_error_naming_file) {
    const char *txt = "this is not a picture at all";
    err_clear();
    cr_assert_eq(ds_png_decode((const unsigned char *)txt, strlen(txt), "notes.txt", NULL, NULL), ERR_FORMAT);
    cr_assert_not_null(strstr(err_msg(), "notes.txt"), "message: %s", err_msg());
    cr_assert_eq(ds_png_decode(NULL, 0, "empty.png", NULL, NULL), ERR_FORMAT);
    cr_assert_not_null(strstr(err_msg(), "empty.png"));
}

/* ------------------------------------------------------------------ Omniglot */

Test(datasets, omniglot_missing_dir_is_io_error_with_fix) {
    ds_set s;
    err_clear();
    cr_assert_eq(ds_omniglot_load("/nonexistent/omni", "evaluation", NULL, &s), ERR_IO);
    cr_assert_not_null(strstr(err_msg(), "/nonexistent/omni"), "message: %s", err_msg());
    cr_assert_not_null(strstr(err_msg(), "NEUROICL_DATA"), "message: %s", err_msg());
    cr_assert_not_null(strstr(err_msg(), "fetch-omniglot.sh"), "message: %s", err_msg());
    cr_assert_eq(ds_omniglot_load(DATA, "training", NULL, &s), ERR_ARG);
    char out[512];
    cr_assert_eq(ds_omniglot_find("/nonexistent/omni", out, sizeof out), ERR_IO);
    cr_assert_not_null(strstr(err_msg(), "/nonexistent/omni"));
    ds_lake_run *runs;
    int nr;
    cr_assert_eq(ds_lake_runs_load("/nonexistent/all_runs.zip", &runs, &nr), ERR_IO);
}

Test(datasets, omniglot_find_order) {
    NEED_DATA();
    char out[512];
    setenv("NEUROICL_DATA", "/nonexistent/env", 1);
    cr_assert_eq(ds_omniglot_find(DATA, out, sizeof out), 0, "%s", err_msg());
    cr_assert_str_eq(out, DATA);
    cr_assert_eq(ds_omniglot_find(NULL, out, sizeof out), ERR_IO);
    cr_assert_not_null(strstr(err_msg(), "/nonexistent/env"));
    unsetenv("NEUROICL_DATA");
    cr_assert_eq(ds_omniglot_find(NULL, out, sizeof out), 0, "%s", err_msg());
    cr_assert_str_eq(out, DATA);
}

static void check_split(const char *split, int classes, int images, int alphabets, const char *first) {
    ds_set s;
    cr_assert_eq(ds_omniglot_load(DATA, split, NULL, &s), 0, "%s", err_msg());
    cr_assert_eq(s.n_classes, classes);
    cr_assert_eq(s.n_images, images);
    cr_assert_eq(s.n_alphabets, alphabets);
    cr_assert_str_eq(s.alphabet[0], first);
    cr_assert_not_null(strstr(s.source, "images_"));
    cr_assert_eq(s.class_start[0], 0);
    for (int c = 0; c < s.n_classes; c++) {
        cr_assert_eq(s.class_start[c + 1] - s.class_start[c], 20, "class %d", c);
        cr_assert(s.class_alphabet[c] >= 0 && s.class_alphabet[c] < s.n_alphabets);
        if (c) cr_assert_geq(s.class_alphabet[c], s.class_alphabet[c - 1]);  // grouped
    }
    for (int a = 1; a < s.n_alphabets; a++) cr_assert_lt(strcmp(s.alphabet[a - 1], s.alphabet[a]), 0);
    double sum = 0;
    for (size_t i = 0; i < (size_t)s.n_images * DS_PIX; i++) sum += s.pixels[i];
    double mean = sum / ((double)s.n_images * DS_PIX);
    cr_assert(mean > 0.03 && mean < 0.2, "mean ink %f: ink polarity wrong?", mean);
    ds_free(&s);
}

Test(datasets, omniglot_evaluation_split_counts, .timeout = 120) {
    NEED_DATA();
    check_split("evaluation", 659, 13180, 20, "Angelic");
}

Test(datasets, omniglot_background_split_counts, .timeout = 120) {
    NEED_DATA();
    check_split("background", 964, 19280, 30, "Alphabet_of_the_Magi");
}

// Extracts the PNGs of the given alphabets from the evaluation zip into dir/images_evaluation/.
static void extract_alphabets(const char *dir, const char **alphas, int na) {
    zip_t *z = zip_open(EVAL_ZIP, ZIP_RDONLY, NULL);
    cr_assert_not_null(z);
    zip_int64_t ne = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < ne; i++) {
        const char *nm = zip_get_name(z, (zip_uint64_t)i, 0);
        int want = 0;
        for (int a = 0; a < na; a++) {
            char pre[256];
            snprintf(pre, sizeof pre, "images_evaluation/%s/", alphas[a]);
            want |= strncmp(nm, pre, strlen(pre)) == 0;
        }
        if (!want || nm[strlen(nm) - 1] == '/') continue;
        char path[4096], sub[4096];
        snprintf(path, sizeof path, "%s/%s", dir, nm);
        snprintf(sub, sizeof sub, "%s", path);
        *strrchr(sub, '/') = 0;
        mkdirs(sub);
        zip_stat_t st;
        cr_assert_eq(zip_stat_index(z, (zip_uint64_t)i, 0, &st), 0);
        unsigned char *b = malloc(st.size);
        zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)i, 0);
        cr_assert_eq(zip_fread(zf, b, st.size), (zip_int64_t)st.size);
        zip_fclose(zf);
        write_bytes(path, b, st.size);
        free(b);
    }
    zip_close(z);
}

static void assert_same_set(const ds_set *a, const ds_set *b, int class0) {
    // b must equal a's classes class0.. for b->n_classes classes.
    int i0 = a->class_start[class0];
    for (int c = 0; c < b->n_classes; c++)
        cr_assert_eq(b->class_start[c + 1] - b->class_start[c],
                     a->class_start[class0 + c + 1] - a->class_start[class0 + c]);
    for (int k = 0; k < b->n_alphabets; k++)
        cr_assert_str_eq(b->alphabet[k], a->alphabet[a->class_alphabet[class0] + k]);
    cr_assert_eq(memcmp(b->pixels, a->pixels + (size_t)i0 * DS_PIX, sizeof(float) * DS_PIX * b->n_images), 0,
                 "pixels differ");
}

Test(datasets, omniglot_zip_and_folder_identical_and_bad_file_reported, .timeout = 120) {
    NEED_DATA();
    ds_set z, f;
    cr_assert_eq(ds_omniglot_load(DATA, "evaluation", NULL, &z), 0, "%s", err_msg());
    char *tmp = make_tmpdir();
    const char *alphas[] = {z.alphabet[0], z.alphabet[1]};
    extract_alphabets(tmp, alphas, 2);
    // Clutter an extracted folder typically has: must be ignored.
    char p[4200];
    snprintf(p, sizeof p, "%s/images_evaluation/.DS_Store", tmp);
    write_bytes(p, "x", 1);
    snprintf(p, sizeof p, "%s/images_evaluation/%s/character01/._0965_01.png", tmp, alphas[0]);
    write_bytes(p, "junk", 4);

    cr_assert_eq(ds_omniglot_load(tmp, "evaluation", NULL, &f), 0, "%s", err_msg());
    cr_assert_eq(f.n_alphabets, 2);
    int nc = 0;
    while (nc < z.n_classes && z.class_alphabet[nc] < 2) nc++;
    cr_assert_eq(f.n_classes, nc);
    cr_assert_eq(f.n_images, z.class_start[nc]);
    assert_same_set(&z, &f, 0);
    cr_assert_not_null(strstr(f.source, tmp));
    ds_free(&f);

    // A damaged file inside the folder: ERR_FORMAT naming that file.
    snprintf(p, sizeof p, "%s/images_evaluation/%s/character02/zz_cut.png", tmp, alphas[1]);
    size_t n;
    unsigned char *b = zip_entry(EVAL_ZIP, FIRST_PNG, &n);
    write_bytes(p, b, n / 2);
    free(b);
    err_clear();
    cr_assert_eq(ds_omniglot_load(tmp, "evaluation", NULL, &f), ERR_FORMAT);
    cr_assert_not_null(strstr(err_msg(), "zz_cut.png"), "message: %s", err_msg());
    cr_assert_null(f.pixels);
    ds_free(&z);
    rm_rf(tmp);
}

static int count_h5(const char *dir, char *found, size_t n) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        k++;
        if (strstr(e->d_name, ".h5")) snprintf(found, n, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    return k;
}

Test(datasets, omniglot_cache_round_trip_is_read_and_rebuilt_when_corrupt, .timeout = 120) {
    NEED_DATA();
    char *tmp = make_tmpdir();
    char cache[4200], file[4600] = "";
    snprintf(cache, sizeof cache, "%s/deep/cache", tmp);  // mkdir -p semantics
    ds_set a, b, c;
    cr_assert_eq(ds_omniglot_load(DATA, "evaluation", cache, &a), 0, "%s", err_msg());
    cr_assert_eq(count_h5(cache, file, sizeof file), 1, "exactly one cache file, no temp left");
    cr_assert(strstr(file, "omniglot-evaluation"));
    cr_assert_eq(ds_omniglot_load(DATA, "evaluation", cache, &b), 0, "%s", err_msg());
    cr_assert_eq(b.n_images, a.n_images);
    cr_assert_eq(b.n_classes, a.n_classes);
    cr_assert_eq(b.n_alphabets, a.n_alphabets);
    cr_assert_str_eq(b.source, a.source);
    cr_assert_eq(memcmp(a.pixels, b.pixels, sizeof(float) * DS_PIX * a.n_images), 0);
    cr_assert_eq(memcmp(a.class_start, b.class_start, sizeof(int) * (a.n_classes + 1)), 0);
    cr_assert_eq(memcmp(a.class_alphabet, b.class_alphabet, sizeof(int) * a.n_classes), 0);
    for (int k = 0; k < a.n_alphabets; k++) cr_assert_str_eq(a.alphabet[k], b.alphabet[k]);
    ds_free(&b);

    // Prove the cache is what gets read: edit one value in it with HDF5 directly.
    hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t d = H5Dopen2(f, "pixels", H5P_DEFAULT);
    float *px = malloc(sizeof(float) * DS_PIX * a.n_images);
    cr_assert_geq(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, px), 0);
    px[5] = 0.625f;
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, px), 0);
    free(px);
    H5Dclose(d);
    H5Fclose(f);
    cr_assert_eq(ds_omniglot_load(DATA, "evaluation", cache, &b), 0, "%s", err_msg());
    cr_assert_float_eq(b.pixels[5], 0.625f, 0);
    ds_free(&b);

    // Corrupt cache: ignored, the data decoded again, and a good cache written back.
    FILE *fp = fopen(file, "r+b");
    cr_assert_not_null(fp);
    fseek(fp, 0, SEEK_SET);
    for (int i = 0; i < 4096; i++) fputc(0x5a, fp);
    fclose(fp);
    err_clear();
    cr_assert_eq(ds_omniglot_load(DATA, "evaluation", cache, &c), 0, "%s", err_msg());
    cr_assert_eq(memcmp(a.pixels, c.pixels, sizeof(float) * DS_PIX * a.n_images), 0);
    ds_free(&c);
    cr_assert_eq(count_h5(cache, file, sizeof file), 1);
    cr_assert_gt(H5Fis_hdf5(file), 0, "cache rebuilt");
    ds_free(&a);
    rm_rf(tmp);
}

/* ------------------------------------------------------------------ Lake one-shot runs */

Test(datasets, lake_twenty_runs_of_twenty) {
    NEED_DATA();
    ds_lake_run *runs = NULL;
    int n = 0;
    cr_assert_eq(ds_lake_runs_load(DATA "/all_runs.zip", &runs, &n), 0, "%s", err_msg());
    cr_assert_eq(n, 20);
    for (int r = 0; r < n; r++) {
        char want[16];
        snprintf(want, sizeof want, "run%02d", r + 1);
        cr_assert_str_eq(runs[r].name, want);
        int seen[DS_LAKE_WAY] = {0};
        for (int i = 0; i < DS_LAKE_WAY; i++) {
            int l = runs[r].test_label[i];
            cr_assert(l >= 0 && l < DS_LAKE_WAY, "run %d item %d label %d", r, i, l);
            seen[l]++;
            double st = 0, sq = 0;
            for (int p = 0; p < DS_PIX; p++) st += runs[r].train[i * DS_PIX + p], sq += runs[r].test[i * DS_PIX + p];
            cr_assert(st > 1 && sq > 1, "run %d image %d has no ink", r, i);
        }
        // The official runs use each training class exactly once as a test answer.
        for (int l = 0; l < DS_LAKE_WAY; l++) cr_assert_eq(seen[l], 1);
    }
    // From the archive's run01/class_labels.txt: item01 -> class08, item03 -> class02.
    cr_assert_eq(runs[0].test_label[0], 7);
    cr_assert_eq(runs[0].test_label[2], 1);
    // Same image as decoding the archive member directly.
    size_t nb;
    unsigned char *b = zip_entry(DATA "/all_runs.zip", "run01/training/class05.png", &nb);
    float pix[DS_PIX];
    cr_assert_eq(ds_png_decode(b, nb, "c5", pix, NULL), 0);
    cr_assert_eq(memcmp(pix, runs[0].train + 4 * DS_PIX, sizeof pix), 0);
    free(b);
    free(runs);
    // The data directory itself is accepted too.
    cr_assert_eq(ds_lake_runs_load(DATA, &runs, &n), 0, "%s", err_msg());
    cr_assert_eq(n, 20);
    free(runs);
}

/* ------------------------------------------------------------------ glyphs */

static double dist2(const float *a, const float *b) {
    double d = 0;
    for (int i = 0; i < DS_PIX; i++) d += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return d;
}

Test(datasets, glyphs_deterministic_and_classes_distinct) {
    ds_set a, b, c;
    cr_assert_eq(ds_glyphs_make(7, 45, 10, &a), 0, "%s", err_msg());
    cr_assert_eq(ds_glyphs_make(7, 45, 10, &b), 0, "%s", err_msg());
    cr_assert_eq(ds_glyphs_make(8, 45, 10, &c), 0, "%s", err_msg());
    cr_assert_str_eq(a.source, "glyphs:seed=7");
    cr_assert_eq(a.n_images, 450);
    cr_assert_eq(a.n_alphabets, 3);
    cr_assert_str_eq(a.alphabet[2], "glyphs-02");
    cr_assert_eq(a.class_alphabet[44], 2);
    cr_assert_eq(a.class_start[45], 450);
    cr_assert_eq(memcmp(a.pixels, b.pixels, sizeof(float) * DS_PIX * a.n_images), 0);
    cr_assert_neq(memcmp(a.pixels, c.pixels, sizeof(float) * DS_PIX * a.n_images), 0);
    // A class is a prefix-stable program: more classes do not change the first ones.
    ds_set d;
    cr_assert_eq(ds_glyphs_make(7, 10, 10, &d), 0);
    cr_assert_eq(memcmp(a.pixels, d.pixels, sizeof(float) * DS_PIX * d.n_images), 0);
    ds_free(&d);

    double intra = 0, inter = 0;
    int ni = 0, ne = 0;
    for (int i = 0; i < a.n_images; i++) {
        double ink = 0;
        for (int p = 0; p < DS_PIX; p++) {
            cr_assert(a.pixels[i * DS_PIX + p] >= 0 && a.pixels[i * DS_PIX + p] <= 1);
            ink += a.pixels[i * DS_PIX + p];
        }
        cr_assert(ink > 10 && ink < 400, "image %d ink %f", i, ink);
        for (int j = i + 1; j < a.n_images; j++) {
            double dd = sqrt(dist2(a.pixels + i * DS_PIX, a.pixels + j * DS_PIX));
            if (i / 10 == j / 10) intra += dd, ni++;
            else inter += dd, ne++;
        }
    }
    cr_assert_gt(ni, 0);
    cr_assert_gt(intra / ni * 1.1, 0.0);
    cr_assert_lt(intra / ni * 1.1, inter / ne, "intra %f inter %f", intra / ni, inter / ne);
    // Drawings of one class are not identical copies (jitter exists).
    cr_assert_gt(dist2(a.pixels, a.pixels + DS_PIX), 0.5);
    // 1-shot nearest neighbour beats chance clearly but is far from perfect.
    int correct = 0, total = 0;
    for (int i = 0; i < a.n_images; i++) {
        if (i % 10 == 0) continue;
        int best = -1;
        double bd = 1e30;
        for (int k = 0; k < a.n_classes; k++) {
            double dd = dist2(a.pixels + i * DS_PIX, a.pixels + k * 10 * DS_PIX);
            if (dd < bd) bd = dd, best = k;
        }
        correct += best == i / 10;
        total++;
    }
    double acc = (double)correct / total;
    cr_assert(acc > 5.0 / 45 && acc < 0.95, "45-way 1-shot pixel NN accuracy %f", acc);
    ds_free(&a);
    ds_free(&b);
    ds_free(&c);
    cr_assert_eq(ds_glyphs_make(1, 0, 5, &a), ERR_ARG);
}

/* ------------------------------------------------------------------ episodes */

static void check_episode(const ds_set *s, const ds_episode *ep) {
    int nw = ep->n_way, ks = ep->k_shot, nq = ep->n_query;
    int *cnt_s = calloc(nw, sizeof(int)), *cnt_q = calloc(nw, sizeof(int));
    for (int i = 0; i < nw; i++)
        for (int j = i + 1; j < nw; j++) cr_assert_neq(ep->classes[i], ep->classes[j], "classes repeat");
    for (int i = 0; i < nw * ks; i++) {
        int l = ep->support_label[i], img = ep->support_img[i], c = ep->classes[l];
        cr_assert(l >= 0 && l < nw);
        cnt_s[l]++;
        cr_assert(img >= s->class_start[c] && img < s->class_start[c + 1], "support image not of its class");
    }
    for (int i = 0; i < nw * nq; i++) {
        int l = ep->query_label[i], img = ep->query_img[i], c = ep->classes[l];
        cr_assert(l >= 0 && l < nw);
        cnt_q[l]++;
        cr_assert(img >= s->class_start[c] && img < s->class_start[c + 1], "query image not of its class");
        for (int j = 0; j < nw * ks; j++) cr_assert_neq(img, ep->support_img[j], "query image also in support");
        for (int j = 0; j < i; j++) cr_assert_neq(img, ep->query_img[j], "query image repeated");
    }
    for (int i = 0; i < nw * ks; i++)
        for (int j = 0; j < i; j++) cr_assert_neq(ep->support_img[i], ep->support_img[j]);
    for (int l = 0; l < nw; l++) {
        cr_assert_eq(cnt_s[l], ks, "unbalanced support");
        cr_assert_eq(cnt_q[l], nq, "unbalanced queries");
    }
    free(cnt_s);
    free(cnt_q);
}

static int same_episode(const ds_episode *a, const ds_episode *b) {
    size_t ns = sizeof(int) * a->n_way * a->k_shot, nq = sizeof(int) * a->n_way * a->n_query;
    return !memcmp(a->support_img, b->support_img, ns) && !memcmp(a->support_label, b->support_label, ns) &&
           !memcmp(a->query_img, b->query_img, nq) && !memcmp(a->query_label, b->query_label, nq) &&
           !memcmp(a->classes, b->classes, sizeof(int) * a->n_way);
}

Test(datasets, episodes_deterministic_balanced_disjoint) {
    ds_set s;
    cr_assert_eq(ds_glyphs_make(3, 60, 20, &s), 0);
    ds_episode a, b, c;
    cr_assert_eq(ds_episode_alloc(&a, 5, 3, 4), 0);
    cr_assert_eq(ds_episode_alloc(&b, 5, 3, 4), 0);
    memset(&c, 0, sizeof c);  // a zeroed episode is allocated by sample
    int unsorted = 0, support_grouped = 0;
    for (uint64_t idx = 0; idx < 40; idx++) {
        cr_assert_eq(ds_episode_sample(&s, 5, 3, 4, 11, idx, &a), 0, "%s", err_msg());
        cr_assert_eq(ds_episode_sample(&s, 5, 3, 4, 11, idx, &b), 0);
        cr_assert(same_episode(&a, &b), "not deterministic at index %d", (int)idx);
        cr_assert_eq(ds_episode_sample(&s, 5, 3, 4, 12, idx, &c), 0);
        cr_assert_not(same_episode(&a, &c), "seed 12 gave seed 11's episode %d", (int)idx);
        check_episode(&s, &a);
        for (int i = 1; i < 5; i++) unsorted |= a.classes[i] < a.classes[i - 1];
        int grouped = 1;
        for (int i = 1; i < 15; i++) grouped &= a.support_label[i] >= a.support_label[i - 1];
        support_grouped += grouped;
    }
    cr_assert(unsorted, "labels never permuted relative to class order");
    cr_assert_lt(support_grouped, 2, "support not shuffled");
    // Episode i does not depend on having sampled episode i-1.
    cr_assert_eq(ds_episode_sample(&s, 5, 3, 4, 11, 39, &b), 0);
    cr_assert(same_episode(&a, &b));
    cr_assert_eq(ds_episode_sample(&s, 5, 3, 4, 11, 38, &b), 0);
    cr_assert_not(same_episode(&a, &b));
    // Shape mismatch with an allocated episode is refused.
    cr_assert_eq(ds_episode_sample(&s, 6, 3, 4, 11, 0, &a), ERR_ARG);
    ds_episode_free(&a);
    ds_episode_free(&b);
    ds_episode_free(&c);
    ds_free(&s);
}

Test(datasets, episodes_argument_errors) {
    ds_set s;
    cr_assert_eq(ds_glyphs_make(1, 25, 6, &s), 0);
    ds_episode ep;
    memset(&ep, 0, sizeof ep);
    err_clear();
    cr_assert_eq(ds_episode_sample(&s, 30, 1, 5, 1, 0, &ep), ERR_ARG);
    cr_assert_str_eq(err_msg(), "n_way 30 > 25 classes with >= 6 images in glyphs:seed=1");
    cr_assert_eq(ds_episode_sample(&s, 5, 2, 5, 1, 0, &ep), ERR_ARG);  // needs 7 per class
    cr_assert_not_null(strstr(err_msg(), "0 classes with >= 7"));
    cr_assert_eq(ds_episode_sample(&s, 0, 1, 1, 1, 0, &ep), ERR_ARG);
    cr_assert_eq(ds_episode_sample(&s, 5, 0, 1, 1, 0, &ep), ERR_ARG);
    cr_assert_eq(ds_episode_sample(&s, 5, 1, 0, 1, 0, &ep), ERR_ARG);
    cr_assert_eq(ds_episode_alloc(&ep, 5, 1, 0), ERR_ARG);
    cr_assert_not_null(strstr(err_msg(), "n_query"));
    // Exactly enough: all 25 classes, all 6 images each.
    cr_assert_eq(ds_episode_sample(&s, 25, 1, 5, 1, 0, &ep), 0, "%s", err_msg());
    check_episode(&s, &ep);
    ds_episode_free(&ep);
    ds_free(&s);
}

Test(datasets, episodes_on_real_omniglot, .timeout = 120) {
    NEED_DATA();
    ds_set s;
    cr_assert_eq(ds_omniglot_load(DATA, "evaluation", NULL, &s), 0, "%s", err_msg());
    ds_episode ep;
    cr_assert_eq(ds_episode_alloc(&ep, 20, 1, 19), 0);
    for (uint64_t i = 0; i < 5; i++) {
        cr_assert_eq(ds_episode_sample(&s, 20, 1, 19, 5, i, &ep), 0, "%s", err_msg());
        check_episode(&s, &ep);
    }
    cr_assert_eq(ds_episode_sample(&s, 20, 1, 20, 5, 0, &ep), ERR_ARG);  // 21 > 20 drawers
    ds_episode_free(&ep);
    ds_free(&s);
}
