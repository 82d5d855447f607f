// cli — small helpers shared by the command-line front ends in bench/.
#ifndef NEUROICL_CLI_H
#define NEUROICL_CLI_H

// Creates the directories above `path` (like mkdir -p of its dirname). ERR_IO naming the
// directory when one cannot be made.
int cli_mkdir_parent(const char *path);
// For a results file about to be appended to: creates its directory and checks (read-only)
// that the file can take a new run, so a bad --out fails before the work, not after.
int cli_prepare_results(const char *path);

#endif
