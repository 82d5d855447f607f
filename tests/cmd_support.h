// Running the neuroicl binary from a test: a shell command with stdout and stderr captured.
#ifndef NEUROICL_TESTS_CMD_SUPPORT_H
#define NEUROICL_TESTS_CMD_SUPPORT_H

typedef struct {
    int code;          // exit status (-1 when killed by a signal)
    int lines;         // newlines in out
    char out[16384];   // stdout + stderr, truncated
} cmd_result;

// printf-style command line, run through the shell with 2>&1.
cmd_result cmd_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
