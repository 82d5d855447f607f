#include "tests/cmd_support.h"
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>

cmd_result cmd_run(const char *fmt, ...) {
    char cmd[2048], full[2100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    cmd_result r = {0};
    FILE *p = popen(full, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    size_t n = fread(r.out, 1, sizeof r.out - 1, p);
    r.out[n] = 0;
    int st = pclose(p);
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    for (size_t i = 0; i < n; i++) r.lines += r.out[i] == '\n';
    return r;
}
