// cli — small helpers shared by the command-line front ends in bench/.
#ifndef NEUROICL_CLI_H
#define NEUROICL_CLI_H
#include <stddef.h>
#include <stdint.h>

// Creates the directories above `path` (like mkdir -p of its dirname). ERR_IO naming the
// directory when one cannot be made.
int cli_mkdir_parent(const char *path);
// For a results file about to be appended to: creates its directory and checks (read-only)
// that the file can take a new run, so a bad --out fails before the work, not after.
int cli_prepare_results(const char *path);
// For a file written at the end of a long command: creates its directory, refuses a directory
// or a place a file cannot be created in (by creating and removing a probe file), naming `opt`.
int cli_check_file_writable(const char *path, const char *opt);
// The command line as one string a shell can run again: arguments with spaces or shell
// characters in single quotes (truncated to n).
void cli_join_args(int argc, char **argv, char *buf, size_t n);

// Strict integer options: the whole string, in lo..hi, else ERR_ARG naming the option.
// s == NULL means cli_opt_value already reported a missing value.
int cli_parse_long(const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out);
int cli_parse_u64(const char *opt, const char *s, uint64_t *out);
// The value after option argv[*i] (advancing *i); NULL with ERR_ARG set when it is missing or
// is itself an option.
const char *cli_opt_value(int argc, char **argv, int *i);

#endif
