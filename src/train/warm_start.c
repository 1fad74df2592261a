/* Warm starts (`train --init CKPT`): a new model takes its initial weights
 * from a checkpoint, tensor by tensor by name. Most tensors must have the
 * same shape and are copied whole; the few whose rows stand for something the
 * data decides are mapped row by row:
 *   gpt  wte and an untied head.w: one row per vocabulary symbol, mapped by
 *        the symbol (specials by id, input symbols among the input symbols,
 *        target symbols among the target symbols); wpe: one row per position
 *   mlp  the output layer (fc.I.w, fc.I.b of the last I): one row per class,
 *        mapped by the class name
 * A row whose symbol, class or position the checkpoint lacks keeps the fresh
 * initialisation sw_model_create gave it; a checkpoint row the data lacks is
 * left out. Anything else that differs is another architecture: an error
 * naming the tensor and both shapes. docs/TRANSFER.md. */
#include "stopwise/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a tensor's rows stand for. */
typedef enum row_role { ROWS_FIXED = 0, ROWS_SYMBOLS, ROWS_POSITIONS, ROWS_CLASSES } row_role;

static row_role role_of(const sw_model_spec *spec, const char *name)
{
    if (spec->kind == SW_MODEL_GPT) {
        if (!strcmp(name, "wte") || !strcmp(name, "head.w")) return ROWS_SYMBOLS;
        if (!strcmp(name, "wpe")) return ROWS_POSITIONS;
        return ROWS_FIXED;
    }
    char w[32], b[32];
    snprintf(w, sizeof w, "fc.%d.w", spec->n_hidden);
    snprintf(b, sizeof b, "fc.%d.b", spec->n_hidden);
    return !strcmp(name, w) || !strcmp(name, b) ? ROWS_CLASSES : ROWS_FIXED;
}

static void shape_text(const sw_tensor_info *t, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "(");
    for (int d = 0; d < t->ndim && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (used < len) snprintf(buf + used, len - used, ")");
}

/* The tensor of m named `name`, or -1. */
static int tensor_named(const sw_model *m, const char *name, sw_tensor_info *out)
{
    int nt = sw_model_num_tensors(m);
    for (int i = 0; i < nt; i++) {
        sw_model_tensor(m, i, out);
        if (!strcmp(out->name, name)) return i;
    }
    return -1;
}

/* "another architecture" errors end with both specs, so the user sees what differs. */
static sw_status mismatch(sw_error *err, const char *path, const sw_model *m, const sw_model *src, const char *what)
{
    char a[512], b[512];
    sw_model_spec_format(sw_model_get_spec(src), a, sizeof a);
    sw_model_spec_format(sw_model_get_spec(m), b, sizeof b);
    return sw_error_set(err, SW_ERR_INVALID,
                        "--init %s: %s: the checkpoint is another architecture (%s; this run's model is %s); start "
                        "from a checkpoint of the same layers, width and kind, or leave out --model to take the "
                        "checkpoint's", path, what, a, b);
}

sw_status sw_warm_start_spec(const sw_checkpoint *ck, const char *path, const sw_dataset *ds, sw_model_spec *spec,
                             sw_error *err)
{
    *spec = *sw_model_get_spec(ck->model);
    sw_task_kind want = spec->kind == SW_MODEL_GPT ? SW_TASK_SEQUENCE : SW_TASK_CLASSIFY;
    if (sw_dataset_kind(ds) != want)
        return sw_error_set(err, SW_ERR_INVALID, "--init %s: a %s checkpoint (%s task) cannot start a model for %s, a "
                                                 "%s task", path, spec->kind == SW_MODEL_GPT ? "gpt" : "mlp",
                            want == SW_TASK_SEQUENCE ? "sequence" : "classification", sw_dataset_name(ds),
                            want == SW_TASK_SEQUENCE ? "classification" : "sequence");
    if (spec->kind == SW_MODEL_GPT) {
        spec->vocab = 0; /* from the data; rows mapped by symbol */
        int need = sw_dataset_max_input_len(ds) + sw_dataset_max_ref_len(ds) + 2; /* input SEP ref EOS */
        if (spec->ctx < need) spec->ctx = 0; /* from the data; new positions get fresh rows */
    } else {
        spec->n_classes = 0; /* from the data; rows mapped by class name */
        spec->n_inputs = 0;  /* from the data: a different count is reported on fc.0.w */
    }
    return SW_OK;
}

/* For each row of the new vocabulary, the checkpoint's row of the same symbol
 * (-1: none). Specials keep their ids; input symbols are looked up among the
 * input symbols and target symbols among the target symbols, since the same
 * letter on both sides has two embeddings. */
static void map_symbols(const sw_vocab *src, const sw_vocab *dst, int *map)
{
    int ns = sw_vocab_size(src), nd = sw_vocab_size(dst);
    int src_first_target = sw_vocab_first_target(src), dst_first_target = sw_vocab_first_target(dst);
    for (int i = 0; i < nd; i++) {
        map[i] = -1;
        if (i < SW_TOKEN_FIRST) {
            map[i] = i;
            continue;
        }
        int target = i >= dst_first_target;
        int lo = target ? src_first_target : SW_TOKEN_FIRST, hi = target ? ns : src_first_target;
        const char *sym = sw_vocab_symbol(dst, i);
        for (int j = lo; j < hi && map[i] < 0; j++)
            if (!strcmp(sym, sw_vocab_symbol(src, j))) map[i] = j;
    }
}

static void map_classes(const sw_classes *src, const sw_classes *dst, int *map)
{
    for (int i = 0; i < sw_classes_count(dst); i++) map[i] = sw_classes_find(src, sw_classes_name(dst, i));
}

/* The row map of the data's symbols or classes onto the checkpoint's: map
 * (malloc'd, one entry per row of the new model), *n_rows, and counts. */
static sw_status row_map(const sw_checkpoint *ck, const char *path, const sw_dataset *ds, int **map, int *n_rows,
                         int *src_rows, sw_error *err)
{
    sw_error e;
    sw_status st;
    if (sw_dataset_kind(ds) == SW_TASK_SEQUENCE) {
        const char *json = sw_checkpoint_meta(ck, "vocab");
        sw_vocab *src = NULL;
        if (!json) return sw_error_set(err, SW_ERR_FORMAT, "--init %s: no vocabulary in its metadata (\"vocab\")", path);
        if ((st = sw_vocab_from_json(json, &src, &e))) return sw_error_set(err, st, "--init %s: %s", path, e.msg);
        const sw_vocab *dst = sw_dataset_vocab(ds);
        *n_rows = sw_vocab_size(dst);
        *src_rows = sw_vocab_size(src);
        *map = malloc(sizeof(int) * (size_t)*n_rows);
        if (*map) map_symbols(src, dst, *map);
        sw_vocab_free(src);
    } else {
        const char *json = sw_checkpoint_meta(ck, "labels");
        sw_classes *src = NULL;
        if (!json) return sw_error_set(err, SW_ERR_FORMAT, "--init %s: no class list in its metadata (\"labels\")", path);
        if ((st = sw_classes_from_json(json, &src, &e))) return sw_error_set(err, st, "--init %s: %s", path, e.msg);
        const sw_classes *dst = sw_dataset_classes(ds);
        double a = sw_classes_feature_scale(src), b = sw_classes_feature_scale(dst);
        if (a != b) {
            sw_classes_free(src);
            return sw_error_set(err, SW_ERR_INVALID,
                                "--init %s: its inputs were scaled by %.9g at load and %s's are scaled by %.9g: the "
                                "features do not mean the same", path, a, sw_dataset_name(ds), b);
        }
        *n_rows = sw_classes_count(dst);
        *src_rows = sw_classes_count(src);
        *map = malloc(sizeof(int) * (size_t)(*n_rows ? *n_rows : 1));
        if (*map) map_classes(src, dst, *map);
        sw_classes_free(src);
    }
    return *map ? SW_OK : sw_error_set(err, SW_ERR_NOMEM, "--init: out of memory");
}

/* Copies one tensor: whole, or row by row through map (rows the map leaves
 * at -1, or past the checkpoint's rows for positions, keep their fresh values). */
static void copy_rows(float *dst, const float *src, const sw_tensor_info *t, const sw_tensor_info *s, row_role role,
                      const int *map)
{
    if (role == ROWS_FIXED) {
        memcpy(dst, src, sizeof(float) * t->numel);
        return;
    }
    size_t width = t->shape[0] ? t->numel / (size_t)t->shape[0] : 0; /* floats per row: C, H, or 1 for a bias */
    for (int64_t r = 0; r < t->shape[0]; r++) {
        int64_t from = role == ROWS_POSITIONS ? (r < s->shape[0] ? r : -1) : map[r];
        if (from >= 0) memcpy(dst + (size_t)r * width, src + (size_t)from * width, sizeof(float) * width);
    }
}

sw_status sw_warm_start(sw_model *m, const sw_dataset *ds, const sw_checkpoint *ck, const char *path,
                        sw_warm_start_report *rep, sw_error *err)
{
    memset(rep, 0, sizeof *rep);
    const sw_model *src = ck->model;
    const sw_model_spec *spec = sw_model_get_spec(m);
    if (sw_model_get_spec(src)->kind != spec->kind)
        return mismatch(err, path, m, src, "a gpt and an mlp share no tensor");
    /* first every check, then every copy: a refused warm start leaves m as it was */
    int nt = sw_model_num_tensors(m), ns = sw_model_num_tensors(src);
    for (int i = 0; i < nt; i++) {
        sw_tensor_info t, s;
        char what[512], a[96], b[96];
        sw_model_tensor(m, i, &t);
        shape_text(&t, b, sizeof b);
        if (tensor_named(src, t.name, &s) < 0) {
            snprintf(what, sizeof what, "tensor '%s' %s of the model is not in the checkpoint", t.name, b);
            return mismatch(err, path, m, src, what);
        }
        shape_text(&s, a, sizeof a);
        /* mapped tensors may differ in their rows only */
        int ok = s.ndim == t.ndim;
        for (int d = role_of(spec, t.name) == ROWS_FIXED ? 0 : 1; ok && d < t.ndim; d++) ok = s.shape[d] == t.shape[d];
        if (!ok) {
            snprintf(what, sizeof what, "tensor '%s' is %s in the checkpoint but %s in the model", t.name, a, b);
            return mismatch(err, path, m, src, what);
        }
    }
    for (int i = 0; i < ns; i++) {
        sw_tensor_info t, s;
        char what[512], a[96];
        sw_model_tensor(src, i, &s);
        if (tensor_named(m, s.name, &t) >= 0) continue;
        shape_text(&s, a, sizeof a);
        snprintf(what, sizeof what, "tensor '%s' %s of the checkpoint has no place in the model", s.name, a);
        return mismatch(err, path, m, src, what);
    }
    int *map = NULL, n_rows = 0, src_rows = 0;
    sw_status st = row_map(ck, path, ds, &map, &n_rows, &src_rows, err);
    if (st) return st;
    for (int i = 0; i < nt; i++) {
        sw_tensor_info t, s;
        sw_model_tensor(m, i, &t);
        tensor_named(src, t.name, &s);
        row_role role = role_of(spec, t.name);
        if (role != ROWS_SYMBOLS && role != ROWS_CLASSES) continue;
        const char *what = role == ROWS_SYMBOLS ? "vocabulary symbols" : "classes";
        if (t.shape[0] != n_rows) { /* the model was not built for this data */
            free(map);
            return sw_error_set(err, SW_ERR_INVALID, "--init %s: tensor '%s' has %lld rows but %s has %d %s", path,
                                t.name, (long long)t.shape[0], sw_dataset_name(ds), n_rows, what);
        }
        if (s.shape[0] != src_rows) { /* the map indexes the checkpoint's rows: they must be all there */
            free(map);
            return sw_error_set(err, SW_ERR_FORMAT, "--init %s: tensor '%s' has %lld rows but its metadata lists %d %s",
                                path, s.name, (long long)s.shape[0], src_rows, what);
        }
    }
    float *dst = sw_model_params(m);
    const float *from = sw_model_params((sw_model *)src); /* read only */
    for (int i = 0; i < nt; i++) {
        sw_tensor_info t, s;
        sw_model_tensor(m, i, &t);
        tensor_named(src, t.name, &s);
        row_role role = role_of(spec, t.name);
        copy_rows(dst + t.offset, from + s.offset, &t, &s, role, map);
        if (role == ROWS_FIXED) rep->tensors++;
        else rep->mapped++;
        if (role == ROWS_POSITIONS && t.shape[0] > s.shape[0]) rep->positions_new = (int)(t.shape[0] - s.shape[0]);
    }
    /* the counts, over symbols or classes proper (the four specials always map) */
    int first = sw_dataset_kind(ds) == SW_TASK_SEQUENCE ? SW_TOKEN_FIRST : 0;
    uint8_t *used = calloc((size_t)(src_rows ? src_rows : 1), 1);
    if (!used) {
        free(map);
        return sw_error_set(err, SW_ERR_NOMEM, "--init: out of memory");
    }
    for (int r = first; r < n_rows; r++) {
        if (map[r] >= 0) {
            rep->rows_kept++;
            used[map[r]] = 1;
        } else {
            rep->rows_new++;
        }
    }
    for (int r = first; r < src_rows; r++) rep->rows_dropped += !used[r];
    free(used);
    free(map);
    return SW_OK;
}

char *sw_warm_start_report_format(const sw_warm_start_report *rep, int sequence, char *buf, size_t len)
{
    snprintf(buf, len, "%d tensors copied, %d mapped by row; %s %d kept, %d new (fresh rows), %d dropped%s", rep->tensors,
             rep->mapped, sequence ? "symbols" : "classes", rep->rows_kept, rep->rows_new, rep->rows_dropped,
             rep->positions_new ? "; positions beyond the checkpoint's context get fresh rows" : "");
    return buf;
}
