#include "bench/cli.h"
#include "bench/results.h"
#include "kernels/err.h"
#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <ctype.h>
#include <unistd.h>

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

int cli_check_file_writable(const char *path, const char *opt) {
    int rc = cli_mkdir_parent(path);
    if (rc) return rc;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return err_set(ERR_IO, "%s %s is a directory (give a file path)", opt, path);
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s.probe-XXXXXX", path);
    int fd = mkstemp(probe);
    if (fd < 0) return err_set(ERR_IO, "cannot write %s: %s (choose a writable %s)", path, strerror(errno), opt);
    close(fd);
    unlink(probe);
    return 0;
}

void cli_join_args(int argc, char **argv, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < argc && k + 2 < n; i++) {
        const char *a = argv[i];
        int plain = *a != 0;
        for (const char *p = a; *p && plain; p++) plain = strchr("-_./=:,+@%", *p) || isalnum((unsigned char)*p);
        if (i && k + 1 < n) buf[k++] = ' ';
        if (plain) k += (size_t)snprintf(buf + k, n - k, "%s", a);
        else {
            if (k + 1 < n) buf[k++] = '\'';
            for (const char *p = a; *p && k + 5 < n; p++) {
                if (*p == '\'') { memcpy(buf + k, "'\\''", 4); k += 4; }
                else buf[k++] = *p;
            }
            if (k + 1 < n) buf[k++] = '\'';
        }
        if (k >= n) k = n - 1;
        buf[k] = 0;
    }
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
