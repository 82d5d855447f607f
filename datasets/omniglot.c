// Omniglot: the official archives (or their extracted folders) -> ds_set of 28x28 ink maps,
// with an HDF5 cache of the decoded arrays, and the official 20-way one-shot runs.
// strdup, strndup, d_type are POSIX/GNU; the Makefile defines this too.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "datasets/dataset.h"
#include "kernels/err.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#define FIX_HINT "pass --data DIR or set NEUROICL_DATA; scripts/fetch-omniglot.sh downloads the archives"
// Bumped whenever the cached arrays would change meaning (decoder, layout).
#define CACHE_FORMAT 1
// Guards against absurd headers: Omniglot images are 105x105.
#define MAX_SIDE 4096

/* ---------------------------------------------------------------- PNG decoding */

typedef struct {
    const unsigned char *p;
    size_t n, pos;
    jmp_buf jb;
    char why[160];
} png_mem;

static void png_mem_read(png_structp png, png_bytep dst, size_t len) {
    png_mem *m = png_get_io_ptr(png);
    if (len > m->n - m->pos) png_error(png, "truncated file");
    memcpy(dst, m->p + m->pos, len);
    m->pos += len;
}

static void png_on_error(png_structp png, png_const_charp msg) {
    png_mem *m = png_get_error_ptr(png);
    snprintf(m->why, sizeof m->why, "%s", msg);
    longjmp(m->jb, 1);
}

// libpng would print warnings to stderr; library code never prints.
static void png_on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

// Exact area averaging: weight of source index s in output index o is the length of the
// overlap of [s, s+1) with o's footprint [o*src/dst, (o+1)*src/dst), normalised so the
// weights of each output sum to 1. Works for any src >= 1 (up- or down-sampling).
static void area_resample(const float *ink, int w, int h, float *out) {
    double *rows = calloc((size_t)h * DS_SIDE, sizeof *rows);  // (h, DS_SIDE)
    if (!rows) { memset(out, 0, DS_PIX * sizeof *out); return; }
    double fx = (double)w / DS_SIDE, fy = (double)h / DS_SIDE;
    for (int ox = 0; ox < DS_SIDE; ox++) {
        double lo = ox * fx, hi = (ox + 1) * fx;
        int s0 = (int)floor(lo), s1 = (int)ceil(hi);
        if (s1 > w) s1 = w;
        for (int s = s0; s < s1; s++) {
            double wt = (fmin(hi, s + 1.0) - fmax(lo, (double)s)) / fx;
            if (wt <= 0) continue;
            for (int y = 0; y < h; y++) rows[(size_t)y * DS_SIDE + ox] += wt * ink[(size_t)y * w + s];
        }
    }
    for (int oy = 0; oy < DS_SIDE; oy++) {
        double lo = oy * fy, hi = (oy + 1) * fy;
        int s0 = (int)floor(lo), s1 = (int)ceil(hi);
        if (s1 > h) s1 = h;
        double acc[DS_SIDE] = {0};
        for (int s = s0; s < s1; s++) {
            double wt = (fmin(hi, s + 1.0) - fmax(lo, (double)s)) / fy;
            if (wt <= 0) continue;
            for (int ox = 0; ox < DS_SIDE; ox++) acc[ox] += wt * rows[(size_t)s * DS_SIDE + ox];
        }
        for (int ox = 0; ox < DS_SIDE; ox++) {
            double v = acc[ox];
            out[oy * DS_SIDE + ox] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
        }
    }
    free(rows);
}

// Reads the whole image as 8-bit grey (first channel of `*ch`) into *img, (h, rowbytes).
// Returns 0, or -1 with m->why set; kept apart from ds_png_decode so that nothing the
// caller owns lives across setjmp.
static int png_read_grey(png_mem *m, unsigned char **img_out, png_uint_32 *w_out,
                         png_uint_32 *h_out, size_t *rowbytes_out, int *ch_out) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, m, png_on_error, png_on_warning);
    if (!png) { snprintf(m->why, sizeof m->why, "out of memory"); return -1; }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(m->why, sizeof m->why, "out of memory");
        return -1;
    }
    // volatile: these change between setjmp and a possible longjmp.
    unsigned char *volatile img = NULL;
    png_bytep *volatile rowp = NULL;
    if (setjmp(m->jb)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(img);
        free(rowp);
        return -1;
    }
    png_set_read_fn(png, m, png_mem_read);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE) {
        snprintf(m->why, sizeof m->why, "size %ux%u out of range", (unsigned)w, (unsigned)h);
        longjmp(m->jb, 1);
    }
    int ct = png_get_color_type(png, info);
    // Normalise every variant to 8-bit grey so one loop handles all of them.
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ct == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
    png_set_strip_16(png);
    if ((ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) {
        // Transparent pixels count as paper (white), as a viewer on white would show them.
        png_color_16 white = {.red = 0xffff, .green = 0xffff, .blue = 0xffff, .gray = 0xffff};
        png_set_background(png, &white, PNG_BACKGROUND_GAMMA_SCREEN, 0, 1.0);
    }
    if (ct == PNG_COLOR_TYPE_PALETTE || (ct & PNG_COLOR_MASK_COLOR)) png_set_rgb_to_gray_fixed(png, 1, -1, -1);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    int ch = png_get_channels(png, info);
    img = malloc(rowbytes * h);
    rowp = malloc(sizeof(png_bytep) * h);
    if (!img || !rowp) {
        snprintf(m->why, sizeof m->why, "out of memory");
        longjmp(m->jb, 1);
    }
    for (png_uint_32 y = 0; y < h; y++) rowp[y] = img + y * rowbytes;
    png_read_image(png, rowp);
    // Reading to IEND catches files cut short after the pixel data.
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rowp);
    *img_out = img, *w_out = w, *h_out = h, *rowbytes_out = rowbytes, *ch_out = ch;
    return 0;
}

int ds_png_decode(const unsigned char *bytes, size_t n, const char *name, float *out_pix,
                  int *ink_pixels) {
    if (!name) name = "(memory)";
    if (!bytes || n < 8 || png_sig_cmp(bytes, 0, 8) != 0)
        return err_set(ERR_FORMAT, "%s: not a PNG file", name);
    png_mem m = {.p = bytes, .n = n, .pos = 0};
    unsigned char *img = NULL;  // (h, rowbytes)
    png_uint_32 w = 0, h = 0;
    size_t rowbytes = 0;
    int ch = 1;
    if (png_read_grey(&m, &img, &w, &h, &rowbytes, &ch) != 0)
        return err_set(strcmp(m.why, "out of memory") ? ERR_FORMAT : ERR_NOMEM, "%s: corrupt PNG (%s)", name, m.why);
    float *ink = malloc(sizeof(float) * w * h);  // (h, w)
    if (!ink) { free(img); return err_set(ERR_NOMEM, "%s: out of memory", name); }
    int count = 0;
    for (png_uint_32 y = 0; y < h; y++)
        for (png_uint_32 x = 0; x < w; x++) {
            unsigned g = img[y * rowbytes + x * ch];
            ink[y * w + x] = 1.0f - g / 255.0f;  // black ink on white paper
            count += g < 128;
        }
    free(img);
    if (out_pix) area_resample(ink, (int)w, (int)h, out_pix);
    free(ink);
    if (ink_pixels) *ink_pixels = count;
    return 0;
}

/* ---------------------------------------------------------------- small helpers */

// snprintf for paths; an overlong path becomes an empty (never matching) one.
static void pathf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= n) buf[0] = 0;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int read_file(const char *path, unsigned char **bytes, size_t *n) {
    *bytes = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    unsigned char *b = malloc(cap);
    for (;;) {
        if (!b) { fclose(f); return err_set(ERR_NOMEM, "%s: out of memory", path); }
        len += fread(b + len, 1, cap - len, f);
        if (len < cap) break;
        cap *= 2;
        unsigned char *nb = realloc(b, cap);
        if (!nb) free(b);
        b = nb;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(b); return err_set(ERR_IO, "%s: read error", path); }
    *bytes = b;
    *n = len;
    return 0;
}

static int zip_read_index(zip_t *z, zip_uint64_t idx, const char *shown, unsigned char **bytes,
                          size_t *n) {
    *bytes = NULL;
    *n = 0;
    zip_stat_t st;
    if (zip_stat_index(z, idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return err_set(ERR_FORMAT, "%s: cannot stat zip entry", shown);
    if (st.size > (1u << 30)) return err_set(ERR_FORMAT, "%s: zip entry too large", shown);
    unsigned char *b = malloc(st.size ? st.size : 1);
    if (!b) return err_set(ERR_NOMEM, "%s: out of memory", shown);
    zip_file_t *f = zip_fopen_index(z, idx, 0);
    if (!f) { free(b); return err_set(ERR_FORMAT, "%s: %s", shown, zip_strerror(z)); }
    zip_int64_t got = zip_fread(f, b, st.size);
    int bad = got < 0 || (zip_uint64_t)got != st.size;
    zip_fclose(f);
    if (bad) { free(b); return err_set(ERR_FORMAT, "%s: corrupt zip entry", shown); }
    *bytes = b;
    *n = st.size;
    return 0;
}

static int open_zip(const char *path, zip_t **out) {
    int zerr = 0;
    *out = zip_open(path, ZIP_RDONLY, &zerr);
    if (*out) return 0;
    zip_error_t ze;
    zip_error_init_with_code(&ze, zerr);
    int code = zerr == ZIP_ER_OPEN || zerr == ZIP_ER_NOENT || zerr == ZIP_ER_READ ? ERR_IO : ERR_FORMAT;
    err_set(code, "%s: not a readable zip archive (%s); re-download it with scripts/fetch-omniglot.sh (checks SHA256SUMS)", path, zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return code;
}

static int mkdir_p(const char *dir) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return err_set(ERR_IO, "%s: path too long", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return err_set(ERR_IO, "cannot create directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return err_set(ERR_IO, "cannot create directory %s: %s", buf, strerror(errno));
    return 0;
}

/* ---------------------------------------------------------------- finding the data */

static int has_omniglot(const char *dir) {
    static const char *names[] = {"images_background.zip", "images_evaluation.zip",
                                  "images_background", "images_evaluation"};
    char p[PATH_MAX];
    for (int i = 0; i < 4; i++) {
        pathf(p, sizeof p, "%s/%s", dir, names[i]);
        if (i < 2 ? is_file(p) : is_dir(p)) return 1;
    }
    return 0;
}

int ds_omniglot_find(const char *explicit_dir, char *out, size_t n) {
    const char *cand, *how;
    const char *env = getenv("NEUROICL_DATA");
    if (explicit_dir) cand = explicit_dir, how = "--data";
    else if (env && *env) cand = env, how = "NEUROICL_DATA";
    else cand = "../shared/data/omniglot", how = "default location";
    if (!has_omniglot(cand))
        return err_set(ERR_IO, "no Omniglot data in %s (%s): expected images_background.zip or "
                               "images_evaluation.zip; " FIX_HINT, cand, how);
    if (snprintf(out, n, "%s", cand) >= (int)n) return err_set(ERR_ARG, "%s: path too long", cand);
    return 0;
}

/* ---------------------------------------------------------------- listing a split */

typedef struct {
    char *alpha, *chr, *file;  // path components below images_<split>/
    zip_uint64_t zidx;         // entry index when reading from a zip
} entry;

typedef struct {
    entry *e;  // (n)
    int n, cap;
} entry_list;

static int entry_cmp(const void *a, const void *b) {
    const entry *x = a, *y = b;
    int c = strcmp(x->alpha, y->alpha);
    if (!c) c = strcmp(x->chr, y->chr);
    if (!c) c = strcmp(x->file, y->file);
    return c;
}

static void entries_free(entry_list *l) {
    for (int i = 0; i < l->n; i++) free(l->e[i].alpha), free(l->e[i].chr), free(l->e[i].file);
    free(l->e);
    memset(l, 0, sizeof *l);
}

static int entries_add(entry_list *l, const char *a, size_t na, const char *c, size_t nc,
                       const char *f, zip_uint64_t zidx) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 1024;
        entry *ne = realloc(l->e, sizeof *ne * cap);
        if (!ne) return err_set(ERR_NOMEM, "out of memory listing Omniglot");
        l->e = ne;
        l->cap = cap;
    }
    entry *e = &l->e[l->n];
    e->alpha = strndup(a, na);
    e->chr = strndup(c, nc);
    e->file = strdup(f);
    e->zidx = zidx;
    if (!e->alpha || !e->chr || !e->file) {
        free(e->alpha), free(e->chr), free(e->file);
        return err_set(ERR_NOMEM, "out of memory listing Omniglot");
    }
    l->n++;
    return 0;
}

// Only <alphabet>/<character>/<name>.png counts; dot-files (macOS "._x") and __MACOSX are not data.
static int list_zip(zip_t *z, const char *prefix, entry_list *l) {
    size_t np = strlen(prefix);
    zip_int64_t ne = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < ne; i++) {
        const char *nm = zip_get_name(z, (zip_uint64_t)i, 0);
        if (!nm || strncmp(nm, prefix, np) != 0) continue;
        const char *a = nm + np, *s1 = strchr(a, '/');
        if (!s1) continue;
        const char *c = s1 + 1, *s2 = strchr(c, '/');
        if (!s2) continue;
        const char *f = s2 + 1;
        if (strchr(f, '/') || !ends_with(f, ".png") || *a == '.' || *c == '.' || *f == '.' ||
            s1 == a || s2 == c)
            continue;
        int rc = entries_add(l, a, (size_t)(s1 - a), c, (size_t)(s2 - c), f, (zip_uint64_t)i);
        if (rc) return rc;
    }
    return 0;
}

// Sorted names of the visible entries of a directory; dirs_only selects subdirectories.
static int list_names(const char *dir, int dirs_only, char ***names, int *n) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return err_set(ERR_IO, "%s: %s", dir, strerror(errno));
    int cap = 0;
    struct dirent *de;
    char p[PATH_MAX];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        int dir_entry;
        if (de->d_type == DT_DIR) dir_entry = 1;
        else if (de->d_type == DT_REG) dir_entry = 0;
        else {  // file systems without d_type, and symlinks
            pathf(p, sizeof p, "%s/%s", dir, de->d_name);
            dir_entry = is_dir(p);
        }
        if (dirs_only ? !dir_entry : (dir_entry || !ends_with(de->d_name, ".png"))) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            char **nn = realloc(*names, sizeof *nn * cap);
            if (!nn) goto oom;
            *names = nn;
        }
        if (!((*names)[*n] = strdup(de->d_name))) goto oom;
        (*n)++;
    }
    closedir(d);
    return 0;
oom:
    closedir(d);
    for (int i = 0; i < *n; i++) free((*names)[i]);
    free(*names);
    *names = NULL;
    *n = 0;
    return err_set(ERR_NOMEM, "out of memory listing %s", dir);
}

static void names_free(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

// Walks root/<alphabet>/<character>/*.png; also sums sizes and latest mtime for the cache key.
static int list_dir(const char *root, entry_list *l, long long *total, long long *latest) {
    char **al = NULL, **ch = NULL, **fi = NULL;
    int na = 0, nc = 0, nf = 0, rc = list_names(root, 1, &al, &na);
    char p[PATH_MAX];
    *total = 0;
    *latest = 0;
    for (int a = 0; !rc && a < na; a++) {
        pathf(p, sizeof p, "%s/%s", root, al[a]);
        rc = list_names(p, 1, &ch, &nc);
        for (int c = 0; !rc && c < nc; c++) {
            pathf(p, sizeof p, "%s/%s/%s", root, al[a], ch[c]);
            rc = list_names(p, 0, &fi, &nf);
            for (int f = 0; !rc && f < nf; f++) {
                struct stat st;
                pathf(p, sizeof p, "%s/%s/%s/%s", root, al[a], ch[c], fi[f]);
                if (stat(p, &st) == 0) {
                    *total += st.st_size;
                    if (st.st_mtime > *latest) *latest = st.st_mtime;
                }
                rc = entries_add(l, al[a], strlen(al[a]), ch[c], strlen(ch[c]), fi[f], 0);
            }
            names_free(fi, nf), fi = NULL, nf = 0;
        }
        names_free(ch, nc), ch = NULL, nc = 0;
    }
    names_free(al, na);
    return rc;
}

/* ---------------------------------------------------------------- HDF5 cache */

static void set_free_arrays(ds_set *s) {
    free(s->pixels);
    free(s->class_start);
    free(s->class_alphabet);
    if (s->alphabet)
        for (int i = 0; i < s->n_alphabets; i++) free(s->alphabet[i]);
    free(s->alphabet);
    s->pixels = NULL, s->class_start = NULL, s->class_alphabet = NULL, s->alphabet = NULL;
}

void ds_free(ds_set *s) {
    if (!s) return;
    set_free_arrays(s);
    memset(s, 0, sizeof *s);
}

static long long ds_len(hid_t f, const char *name, int rank_want, hsize_t *dims) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    long long r = -1;
    if (rank == rank_want && H5Sget_simple_extent_dims(sp, dims, NULL) == rank) r = (long long)dims[0];
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return r;
}

static int read_ds(hid_t f, const char *name, hid_t memtype, void *buf) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return -1;
    herr_t e = H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Dclose(d);
    return e < 0 ? -1 : 0;
}

// Any failure (missing file, corruption, wrong shapes, checksum) means "no usable cache".
static int cache_read_impl(const char *path, ds_set *s) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return -1;
    int ok = 0, fmt = 0;
    hsize_t dp[2], dc[1], da[1], dn[1];
    hid_t at = H5Aopen(f, "format", H5P_DEFAULT);
    if (at >= 0) {
        if (H5Aread(at, H5T_NATIVE_INT, &fmt) < 0) fmt = 0;
        H5Aclose(at);
    }
    long long ni = ds_len(f, "pixels", 2, dp), ncs = ds_len(f, "class_start", 1, dc);
    long long nca = ds_len(f, "class_alphabet", 1, da), nal = ds_len(f, "alphabet", 1, dn);
    hid_t strt = -1;
    char *names = NULL;
    size_t slen = 0;
    if (fmt != CACHE_FORMAT || ni < 1 || dp[1] != DS_PIX || ncs < 2 || nca != ncs - 1 || nal < 1 ||
        ni > INT_MAX || ncs > INT_MAX)
        goto done;
    s->n_images = (int)ni, s->n_classes = (int)nca, s->n_alphabets = (int)nal;
    s->pixels = malloc(sizeof(float) * ni * DS_PIX);
    s->class_start = malloc(sizeof(int) * ncs);
    s->class_alphabet = malloc(sizeof(int) * nca);
    s->alphabet = calloc(nal, sizeof(char *));
    if (!s->pixels || !s->class_start || !s->class_alphabet || !s->alphabet) goto done;
    if (read_ds(f, "pixels", H5T_NATIVE_FLOAT, s->pixels) || read_ds(f, "class_start", H5T_NATIVE_INT, s->class_start) ||
        read_ds(f, "class_alphabet", H5T_NATIVE_INT, s->class_alphabet))
        goto done;
    {
        hid_t d = H5Dopen2(f, "alphabet", H5P_DEFAULT);
        if (d < 0) goto done;
        hid_t ft = H5Dget_type(d);
        slen = ft >= 0 && H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft) ? H5Tget_size(ft) : 0;
        if (ft >= 0) H5Tclose(ft);
        if (slen < 1 || slen > 4096) { H5Dclose(d); goto done; }
        strt = H5Tcopy(H5T_C_S1);
        H5Tset_size(strt, slen);
        H5Tset_strpad(strt, H5T_STR_NULLPAD);
        names = calloc((size_t)nal, slen + 1);
        herr_t e = names ? H5Dread(d, strt, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) : -1;
        H5Dclose(d);
        if (e < 0) goto done;
    }
    // Shapes are only trusted once the indices are consistent with them.
    if (s->class_start[0] != 0 || s->class_start[s->n_classes] != s->n_images) goto done;
    for (int c = 0; c < s->n_classes; c++)
        if (s->class_start[c + 1] <= s->class_start[c] || s->class_alphabet[c] < 0 ||
            s->class_alphabet[c] >= s->n_alphabets)
            goto done;
    for (long long i = 0; i < ni * DS_PIX; i++)
        if (!(s->pixels[i] >= 0.0f && s->pixels[i] <= 1.0f)) goto done;
    for (int a = 0; a < s->n_alphabets; a++) {
        // names was read as nal records of slen bytes, packed.
        if (!(s->alphabet[a] = strndup(names + (size_t)a * slen, slen))) goto done;
    }
    ok = 1;
done:
    free(names);
    if (strt >= 0) H5Tclose(strt);
    H5Fclose(f);
    if (!ok) {
        set_free_arrays(s);
        s->n_images = s->n_classes = s->n_alphabets = 0;
        return -1;
    }
    return 0;
}

static int cache_read(const char *path, ds_set *s) {
    int rc = -1;
    H5E_BEGIN_TRY { rc = cache_read_impl(path, s); } H5E_END_TRY;
    return rc;
}

static hid_t make_ds(hid_t f, const char *name, hid_t type, int rank, const hsize_t *dims,
                     const hsize_t *chunk) {
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    // Chunks + Fletcher32 let a reader detect a damaged cache; shuffle+deflate shrink the
    // mostly-zero ink maps several-fold. Both filters ship with every HDF5.
    H5Pset_chunk(pl, rank, chunk);
    H5Pset_fletcher32(pl);
    H5Pset_shuffle(pl);
    H5Pset_deflate(pl, 1);
    hid_t d = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    H5Pclose(pl);
    H5Sclose(sp);
    return d;
}

static int cache_write_impl(const char *tmp, const ds_set *s, const char *origin) {
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return -1;
    int bad = 0;
    hid_t sc = H5Screate(H5S_SCALAR);
    int fmt = CACHE_FORMAT, side = DS_SIDE;
    hid_t a = H5Acreate2(f, "format", H5T_STD_I32LE, sc, H5P_DEFAULT, H5P_DEFAULT);
    bad |= a < 0 || H5Awrite(a, H5T_NATIVE_INT, &fmt) < 0;
    if (a >= 0) H5Aclose(a);
    a = H5Acreate2(f, "side", H5T_STD_I32LE, sc, H5P_DEFAULT, H5P_DEFAULT);
    bad |= a < 0 || H5Awrite(a, H5T_NATIVE_INT, &side) < 0;
    if (a >= 0) H5Aclose(a);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, strlen(origin) + 1);
    a = H5Acreate2(f, "source", st, sc, H5P_DEFAULT, H5P_DEFAULT);
    bad |= a < 0 || H5Awrite(a, st, origin) < 0;
    if (a >= 0) H5Aclose(a);
    H5Tclose(st);
    H5Sclose(sc);

    hsize_t dp[2] = {(hsize_t)s->n_images, DS_PIX}, cp[2] = {s->n_images < 512 ? (hsize_t)s->n_images : 512, DS_PIX};
    hid_t d = make_ds(f, "pixels", H5T_IEEE_F32LE, 2, dp, cp);
    bad |= d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->pixels) < 0;
    if (d >= 0) H5Dclose(d);
    hsize_t dc = (hsize_t)s->n_classes + 1;
    d = make_ds(f, "class_start", H5T_STD_I32LE, 1, &dc, &dc);
    bad |= d < 0 || H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->class_start) < 0;
    if (d >= 0) H5Dclose(d);
    dc = (hsize_t)s->n_classes;
    d = make_ds(f, "class_alphabet", H5T_STD_I32LE, 1, &dc, &dc);
    bad |= d < 0 || H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->class_alphabet) < 0;
    if (d >= 0) H5Dclose(d);

    size_t slen = 1;
    for (int i = 0; i < s->n_alphabets; i++)
        if (strlen(s->alphabet[i]) + 1 > slen) slen = strlen(s->alphabet[i]) + 1;
    char *names = calloc((size_t)s->n_alphabets, slen);
    if (!names) bad = 1;
    else {
        for (int i = 0; i < s->n_alphabets; i++) memcpy(names + (size_t)i * slen, s->alphabet[i], strlen(s->alphabet[i]));
        st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, slen);
        H5Tset_strpad(st, H5T_STR_NULLTERM);
        dc = (hsize_t)s->n_alphabets;
        d = make_ds(f, "alphabet", st, 1, &dc, &dc);
        bad |= d < 0 || H5Dwrite(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) < 0;
        if (d >= 0) H5Dclose(d);
        H5Tclose(st);
        free(names);
    }
    bad |= H5Fclose(f) < 0;
    return bad ? -1 : 0;
}

// Writes to a temporary name and renames: readers (and an interrupted run) only ever see
// a complete cache file or none.
static int cache_write(const char *cache_dir, const char *path, const ds_set *s, const char *origin) {
    int rc = mkdir_p(cache_dir);
    if (rc) return rc;
    char tmp[PATH_MAX + 32];
    pathf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int bad = -1;
    H5E_BEGIN_TRY { bad = cache_write_impl(tmp, s, origin); } H5E_END_TRY;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return err_set(ERR_IO, "cannot write cache %s", path);
    }
    return 0;
}

/* ---------------------------------------------------------------- loading a split */

typedef struct {
    unsigned char *bytes;  // (n) raw PNG file
    size_t n;
    int rc;
} blob;

// Groups the sorted entries into classes and alphabets.
static int build_index(const entry_list *l, ds_set *s) {
    int nc = 0, na = 0;
    for (int i = 0; i < l->n; i++) {
        int new_alpha = i == 0 || strcmp(l->e[i].alpha, l->e[i - 1].alpha) != 0;
        na += new_alpha;
        nc += new_alpha || strcmp(l->e[i].chr, l->e[i - 1].chr) != 0;
    }
    s->n_images = l->n, s->n_classes = nc, s->n_alphabets = na;
    s->class_start = malloc(sizeof(int) * (nc + 1));
    s->class_alphabet = malloc(sizeof(int) * nc);
    s->alphabet = calloc(na, sizeof(char *));
    if (!s->class_start || !s->class_alphabet || !s->alphabet) return err_set(ERR_NOMEM, "out of memory indexing Omniglot");
    int c = -1, a = -1;
    for (int i = 0; i < l->n; i++) {
        int new_alpha = i == 0 || strcmp(l->e[i].alpha, l->e[i - 1].alpha) != 0;
        if (new_alpha && !(s->alphabet[++a] = strdup(l->e[i].alpha)))
            return err_set(ERR_NOMEM, "out of memory indexing Omniglot");
        if (new_alpha || strcmp(l->e[i].chr, l->e[i - 1].chr) != 0) {
            s->class_start[++c] = i;
            s->class_alphabet[c] = a;
        }
    }
    s->class_start[nc] = l->n;
    return 0;
}

int ds_omniglot_load(const char *dir, const char *split, const char *cache_dir, ds_set *out) {
    memset(out, 0, sizeof *out);
    if (!dir || !split || (strcmp(split, "background") && strcmp(split, "evaluation")))
        return err_set(ERR_ARG, "Omniglot split '%s' unknown: use background or evaluation", split ? split : "(null)");
    char zpath[PATH_MAX], fpath[PATH_MAX], prefix[64];
    pathf(zpath, sizeof zpath, "%s/images_%s.zip", dir, split);
    pathf(fpath, sizeof fpath, "%s/images_%s", dir, split);
    snprintf(prefix, sizeof prefix, "images_%s/", split);
    int use_zip = is_file(zpath);
    if (!use_zip && !is_dir(fpath))
        return err_set(ERR_IO, "no images_%s.zip or images_%s/ in %s: " FIX_HINT, split, split, dir);
    const char *origin = use_zip ? zpath : fpath;

    entry_list l = {0};
    zip_t *z = NULL;
    blob *bl = NULL;
    long long key_size = 0, key_time = 0;
    int rc = 0;
    if (use_zip) {
        struct stat st;
        if (stat(zpath, &st) != 0) return err_set(ERR_IO, "%s: %s", zpath, strerror(errno));
        key_size = st.st_size, key_time = st.st_mtime;
        if ((rc = open_zip(zpath, &z))) return rc;
        rc = list_zip(z, prefix, &l);
    } else {
        rc = list_dir(fpath, &l, &key_size, &key_time);
        // Folders are keyed by their content's count too: adding a file changes the cache.
        key_size = key_size * 100003LL + l.n;
    }
    if (rc) goto fail;
    if (l.n == 0) {
        rc = err_set(ERR_FORMAT, "%s: no <alphabet>/<character>/*.png images under %s", origin, prefix);
        goto fail;
    }

    char cpath[PATH_MAX + 128] = "";
    if (cache_dir) {
        pathf(cpath, sizeof cpath, "%s/omniglot-%s-%s%lld-%lld.h5", cache_dir, split,
                 use_zip ? "" : "dir", key_size, key_time);
        if (cache_read(cpath, out) == 0 && out->n_images == l.n) goto done;
        set_free_arrays(out);
    }

    qsort(l.e, l.n, sizeof *l.e, entry_cmp);
    if ((rc = build_index(&l, out))) goto fail;
    out->pixels = malloc(sizeof(float) * DS_PIX * (size_t)l.n);
    bl = calloc(l.n, sizeof *bl);
    if (!out->pixels || !bl) { rc = err_set(ERR_NOMEM, "out of memory loading Omniglot (%d images)", l.n); goto fail; }
    // libzip handles are not shared across threads, so archive reads are serial (inflate of
    // ~3 MB total is quick); file reads and PNG decoding run in parallel.
    if (use_zip) {
        char shown[PATH_MAX + 256];
        for (int i = 0; i < l.n; i++) {
            if ((rc = zip_read_index(z, l.e[i].zidx, zpath, &bl[i].bytes, &bl[i].n))) {
                pathf(shown, sizeof shown, "%s/%s/%s/%s", zpath, l.e[i].alpha, l.e[i].chr, l.e[i].file);
                rc = err_set(rc, "%s: cannot read zip entry", shown);
                goto fail;
            }
        }
    }
    int first_bad = -1;
#pragma omp parallel for schedule(dynamic, 64)
    for (int i = 0; i < l.n; i++) {
        char nm[PATH_MAX + 256];
        pathf(nm, sizeof nm, "%s/%s/%s/%s", origin, l.e[i].alpha, l.e[i].chr, l.e[i].file);
        if (!use_zip) {
            bl[i].rc = read_file(nm, &bl[i].bytes, &bl[i].n);
            if (bl[i].rc) continue;
        }
        bl[i].rc = ds_png_decode(bl[i].bytes, bl[i].n, nm, out->pixels + (size_t)i * DS_PIX, NULL);
        if (!use_zip) free(bl[i].bytes), bl[i].bytes = NULL;
    }
    for (int i = 0; i < l.n && first_bad < 0; i++)
        if (bl[i].rc) first_bad = i;
    if (first_bad >= 0) {
        // The message was left in a worker thread's error slot: redo that one file here.
        int i = first_bad;
        char nm[PATH_MAX + 256];
        pathf(nm, sizeof nm, "%s/%s/%s/%s", origin, l.e[i].alpha, l.e[i].chr, l.e[i].file);
        if (!use_zip) {
            free(bl[i].bytes);
            rc = read_file(nm, &bl[i].bytes, &bl[i].n);
        }
        if (!rc) rc = ds_png_decode(bl[i].bytes, bl[i].n, nm, NULL, NULL);
        if (!rc) rc = err_set(bl[i].rc, "%s: decoding failed", nm);
        goto fail;
    }
    if (cache_dir) {
        // A cache that cannot be written costs time next run, not correctness.
        (void)cache_write(cache_dir, cpath, out, origin);
        err_clear();
    }
done:
    pathf(out->source, sizeof out->source, "omniglot:%s", origin);
    if (bl)
        for (int i = 0; i < l.n; i++) free(bl[i].bytes);
    free(bl);
    entries_free(&l);
    if (z) zip_discard(z);
    return 0;
fail:
    if (bl)
        for (int i = 0; i < l.n; i++) free(bl[i].bytes);
    free(bl);
    entries_free(&l);
    if (z) zip_discard(z);
    ds_free(out);
    return rc;
}

/* ---------------------------------------------------------------- official one-shot runs */

typedef struct {
    zip_t *z;          // archive, or NULL for a folder
    char root[PATH_MAX];  // folder holding runNN/, or the archive path
    char prefix[64];   // path prefix of runNN/ inside the archive
} run_src;

static int run_read(run_src *src, const char *rel, unsigned char **bytes, size_t *n, char *shown, size_t ns) {
    if (src->z) {
        char nm[PATH_MAX];
        pathf(nm, sizeof nm, "%s%s", src->prefix, rel);
        pathf(shown, ns, "%s:%s", src->root, nm);
        zip_int64_t idx = zip_name_locate(src->z, nm, 0);
        if (idx < 0) return err_set(ERR_FORMAT, "%s: missing from archive", shown);
        return zip_read_index(src->z, (zip_uint64_t)idx, shown, bytes, n);
    }
    pathf(shown, ns, "%s/%s", src->root, rel);
    return read_file(shown, bytes, n);
}

static int run_exists(run_src *src, int r) {
    char rel[64], shown[PATH_MAX + 128];
    snprintf(rel, sizeof rel, "run%02d/class_labels.txt", r);
    if (src->z) {
        pathf(shown, sizeof shown, "%s%s", src->prefix, rel);
        return zip_name_locate(src->z, shown, 0) >= 0;
    }
    pathf(shown, sizeof shown, "%s/%s", src->root, rel);
    return is_file(shown);
}

// Number NN from ".../itemNN.png" or ".../classNN.png".
static int trailing_number(const char *tok, const char *stem) {
    const char *b = strrchr(tok, '/');
    b = b ? b + 1 : tok;
    size_t ls = strlen(stem);
    if (strncmp(b, stem, ls) != 0) return -1;
    char *end;
    long v = strtol(b + ls, &end, 10);
    return end != b + ls && strncmp(end, ".png", 4) == 0 ? (int)v : -1;
}

static int load_run(run_src *src, int r, ds_lake_run *run) {
    char rel[64], shown[PATH_MAX + 128];
    unsigned char *b = NULL;
    size_t n = 0;
    memset(run, 0, sizeof *run);
    snprintf(run->name, sizeof run->name, "run%02d", r);
    for (int k = 0; k < 2 * DS_LAKE_WAY; k++) {
        int i = k % DS_LAKE_WAY, is_test = k >= DS_LAKE_WAY;
        snprintf(rel, sizeof rel, "run%02d/%s%02d.png", r, is_test ? "test/item" : "training/class", i + 1);
        int rc = run_read(src, rel, &b, &n, shown, sizeof shown);
        if (!rc) rc = ds_png_decode(b, n, shown, (is_test ? run->test : run->train) + (size_t)i * DS_PIX, NULL);
        free(b);
        if (rc) return rc;
    }
    snprintf(rel, sizeof rel, "run%02d/class_labels.txt", r);
    int rc = run_read(src, rel, &b, &n, shown, sizeof shown);
    if (rc) return rc;
    char *txt = malloc(n + 1);
    if (!txt) { free(b); return err_set(ERR_NOMEM, "out of memory"); }
    memcpy(txt, b, n);
    txt[n] = 0;
    free(b);
    int seen = 0;
    for (int i = 0; i < DS_LAKE_WAY; i++) run->test_label[i] = -1;
    char *save = NULL;
    for (char *line = strtok_r(txt, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char a[256], c[256];
        if (sscanf(line, "%255s %255s", a, c) != 2) continue;
        int item = trailing_number(a, "item"), cls = trailing_number(c, "class");
        if (item < 1 || item > DS_LAKE_WAY || cls < 1 || cls > DS_LAKE_WAY) {
            free(txt);
            return err_set(ERR_FORMAT, "%s: unexpected line '%s'", shown, line);
        }
        seen += run->test_label[item - 1] < 0;
        run->test_label[item - 1] = cls - 1;
    }
    free(txt);
    if (seen != DS_LAKE_WAY) return err_set(ERR_FORMAT, "%s: labels for %d of %d test items", shown, seen, DS_LAKE_WAY);
    return 0;
}

int ds_lake_runs_load(const char *path, ds_lake_run **runs, int *n_runs) {
    *runs = NULL;
    *n_runs = 0;
    if (!path) return err_set(ERR_ARG, "no path for all_runs.zip");
    run_src src = {0};
    char p[PATH_MAX];
    const char *zpath = NULL;
    if (is_dir(path)) {
        pathf(p, sizeof p, "%s/run01/class_labels.txt", path);
        if (is_file(p)) pathf(src.root, sizeof src.root, "%s", path);
        else {
            pathf(p, sizeof p, "%s/all_runs/run01/class_labels.txt", path);
            if (is_file(p)) pathf(src.root, sizeof src.root, "%s/all_runs", path);
            else {
                pathf(p, sizeof p, "%s/all_runs.zip", path);
                if (!is_file(p))
                    return err_set(ERR_IO, "no all_runs.zip or runNN/ folders in %s: " FIX_HINT, path);
                zpath = p;
            }
        }
    } else if (is_file(path)) zpath = path;
    else return err_set(ERR_IO, "%s: no such file or directory: " FIX_HINT, path);
    if (zpath) {
        pathf(src.root, sizeof src.root, "%s", zpath);
        int rc = open_zip(zpath, &src.z);
        if (rc) return rc;
        // Some repackagings nest everything under all_runs/.
        if (zip_name_locate(src.z, "run01/class_labels.txt", 0) < 0 &&
            zip_name_locate(src.z, "all_runs/run01/class_labels.txt", 0) >= 0)
            snprintf(src.prefix, sizeof src.prefix, "all_runs/");
    }
    int n = 0;
    while (n < 99 && run_exists(&src, n + 1)) n++;
    int rc = 0;
    if (n == 0) rc = err_set(ERR_FORMAT, "%s: no run01/class_labels.txt found", src.root);
    ds_lake_run *r = n ? malloc(sizeof *r * n) : NULL;
    if (n && !r) rc = err_set(ERR_NOMEM, "out of memory loading %d one-shot runs", n);
    for (int i = 0; !rc && i < n; i++) rc = load_run(&src, i + 1, &r[i]);
    if (src.z) zip_discard(src.z);
    if (rc) {
        free(r);
        return rc;
    }
    *runs = r;
    *n_runs = n;
    return 0;
}
