/* Structured pruning of a checkpoint file: one-shot unit pruning (optional),
 * then compaction to the smaller dense model, written with the source's
 * metadata so that eval and predict read it like any checkpoint. */
#include "stopwise/train.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Metadata the save writes itself, or that belongs to the source's training
 * only (a compact model cannot resume the run). */
static int dropped_key(const char *k)
{
    return !strcmp(k, "format") || !strcmp(k, "stopwise_version") || !strcmp(k, "model") || !strcmp(k, "train_state");
}

sw_status sw_checkpoint_prune(const char *in, const char *out, double neurons_keep, double heads_keep, size_t *before,
                              size_t *after, char *spec, size_t spec_len, sw_error *err)
{
    if (!(neurons_keep > 0 && neurons_keep <= 1) || !(heads_keep > 0 && heads_keep <= 1))
        return sw_error_set(err, SW_ERR_INVALID, "prune: keep fractions must be in (0, 1] (neurons %g, heads %g)",
                            neurons_keep, heads_keep);
    sw_checkpoint ck;
    sw_status st = sw_checkpoint_load(in, &ck, err);
    if (st) return st;
    sw_model *small = NULL;
    const char **kv = NULL;
    char what[128] = "", part[64], num[32];
    if (neurons_keep < 1 && !(st = sw_model_prune_units(ck.model, SW_PRUNE_NEURONS, neurons_keep, err))) {
        snprintf(part, sizeof part, "neurons:keep=%s", sw_format_double(neurons_keep, num, sizeof num));
        strcat(what, part);
    }
    if (!st && heads_keep < 1 && !(st = sw_model_prune_units(ck.model, SW_PRUNE_HEADS, heads_keep, err))) {
        snprintf(part, sizeof part, "%sheads:keep=%s", what[0] ? " " : "",
                 sw_format_double(heads_keep, num, sizeof num));
        strcat(what, part);
    }
    if (st) {
        sw_error_set(err, st, "%s: %s", in, err ? err->msg : "cannot prune");
        goto done;
    }
    if ((st = sw_model_compact(ck.model, &small, err))) goto done;
    /* the source's metadata, minus what the save writes or a resume needs */
    json_t *meta = json_loads(ck.meta_json, 0, NULL);
    size_t n = meta ? json_object_size(meta) : 0, k = 0;
    kv = calloc(2 * (n + 2), sizeof *kv);
    if (!meta || !kv) {
        json_decref(meta);
        st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", in);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(meta, key, val) {
        if (dropped_key(key) || !json_is_string(val) || !strcmp(key, "pruned_from") || !strcmp(key, "prune")) continue;
        kv[2 * k] = key;
        kv[2 * k + 1] = json_string_value(val);
        k++;
    }
    kv[2 * k] = "pruned_from";
    kv[2 * k + 1] = in;
    k++;
    if (what[0]) {
        kv[2 * k] = "prune";
        kv[2 * k + 1] = what;
        k++;
    }
    st = sw_checkpoint_save(out, small, NULL, kv, (int)k, err);
    json_decref(meta);
    if (st) goto done;
    if (before) *before = sw_model_num_params(ck.model);
    if (after) *after = sw_model_num_params(small);
    if (spec) sw_model_spec_format(sw_model_get_spec(small), spec, spec_len);
done:
    free(kv);
    sw_model_free(small);
    sw_checkpoint_free(&ck);
    return st;
}
