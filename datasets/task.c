// task — which images a command runs on: "omniglot" (must be found), "glyphs" (the built-in
// procedural set) or "auto" (Omniglot when found, else glyphs, saying so on `log`).
#include "datasets/dataset.h"
#include "kernels/err.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

const char *ds_cache_dir(void) {
    const char *c = getenv("NEUROICL_CACHE");
    return c && *c ? c : "cache";
}

int ds_load_task(const char *task, const char *data, const char *split, ds_set *set, FILE *log,
                 char *dir, size_t n) {
    int want_omni = !strcmp(task, "omniglot"), want_auto = !strcmp(task, "auto");
    if (!want_omni && !want_auto && strcmp(task, "glyphs"))
        return err_set(ERR_ARG, "unknown --task '%s' (choose auto, omniglot or glyphs)", task);
    if (dir && n) dir[0] = 0;
    if (want_omni || want_auto) {
        char found[4096];
        int rc = ds_omniglot_find(data, found, sizeof found);
        char abs[4096];
        if (rc == 0 && realpath(found, abs)) snprintf(found, sizeof found, "%s", abs);  // for the record
        if (rc == 0) {
            if (dir && n) snprintf(dir, n, "%s", found);
            if (log) fprintf(log, "data: Omniglot %s split from %s\n", split, found);
            return ds_omniglot_load(found, split, ds_cache_dir(), set);
        }
        if (want_omni) return err_wrap(rc, "--task omniglot");
        // A path the user typed is not silently replaced by procedural glyphs.
        if (data)
            return err_set(rc, "--data %s holds no Omniglot (images_background.zip / images_evaluation.zip or their "
                               "folders): fix the path, drop --data, or use --task glyphs", data);
        if (log) fprintf(log, "data: no Omniglot found (%s); using the built-in procedural glyphs\n", err_msg());
    }
    int bg = !strcmp(split, "background");
    if (log) fprintf(log, "data: procedural glyphs, %s split\n", split);
    return ds_glyphs_make(bg ? DS_GLYPH_SEED_BACKGROUND : DS_GLYPH_SEED_EVALUATION, bg ? 964 : 659, 20, set);
}
