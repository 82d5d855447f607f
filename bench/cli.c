#include "bench/cli.h"
#include "bench/results.h"
#include "kernels/err.h"
#include <errno.h>
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
