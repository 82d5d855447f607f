#include "bench/cli.h"
#include "bench/results.h"
#include "kernels/err.h"
#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cli_mkdir_parent(const char *path) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return 0;
    *slash = 0;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') { *p = 0; mkdir(buf, 0777); *p = '/'; }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return err_set(ERR_IO, "cannot create directory %s for %s: %s (choose a writable location)", buf, path, strerror(errno));
    return 0;
}

int cli_prepare_results(const char *path) {
    int rc = cli_mkdir_parent(path);
    return rc ? rc : h5r_check_writable(path);
}

int cli_parse_long(const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    if (!s) return ERR_ARG;  // cli_opt_value already said the value is missing
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!s || !*s || *end || errno)
        return err_set(ERR_ARG, "%s needs an integer in %ld..%ld (got '%s')", opt, lo, hi, s ? s : "");
    if (v < lo || v > hi) return err_set(ERR_ARG, "%s must be in %ld..%ld (got %ld)", opt, lo, hi, v);
    *out = v;
    return 0;
}

int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out) {
    long v = 0;
    int rc = cli_parse_long(opt, s, lo, hi, &v);
    if (!rc) *out = (int)v;
    return rc;
}

int cli_parse_u64(const char *opt, const char *s, uint64_t *out) {
    char *end;
    if (!s) return ERR_ARG;
    errno = 0;
    unsigned long long v = *s != '-' ? strtoull(s, &end, 10) : 0;
    if (!s || !*s || *s == '-' || *end || errno)
        return err_set(ERR_ARG, "%s needs a non-negative integer (got '%s')", opt, s ? s : "");
    *out = v;
    return 0;
}

const char *cli_opt_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc || (argv[*i + 1][0] == '-' && argv[*i + 1][1] == '-')) {
        err_set(ERR_ARG, "%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}
