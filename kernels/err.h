// err — one error slot per thread. Library code returns a non-zero code and leaves a
// one-line message here; the command line prints it in exactly one place (bench/main.c).
#ifndef NEUROICL_ERR_H
#define NEUROICL_ERR_H

enum {
    ERR_OK = 0,
    ERR_IO = 1,      // missing/unreadable/unwritable file
    ERR_FORMAT = 2,  // corrupt or unexpected content
    ERR_ARG = 3,     // absurd or out-of-range parameter
    ERR_NOMEM = 4,
    ERR_RANGE = 5,   // does not fit (e.g. emulator resource limits)
    ERR_INTERRUPTED = 6,
};

// Formats the message, stores it, returns `code` so callers can `return err_set(...)`.
int err_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Prefixes the current message with more context ("loading model: <old>"); returns code.
int err_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *err_msg(void);
void err_clear(void);

#endif
