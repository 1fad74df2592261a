/* train/: warm starts and frozen tensors (docs/TRANSFER.md).
 * - A warm start maps rows by meaning: a shared symbol's (or class's) row is
 *   the checkpoint's row, moved to the symbol's new id; a new symbol's row is
 *   the fresh one the model's own initialisation drew; every other tensor is
 *   the checkpoint's.
 * - Another architecture is refused, naming the tensor and both shapes, and
 *   leaves the model as it was.
 * - Frozen tensors keep their bits through training; an unfreeze point frees
 *   them exactly there, across a resume too.
 * - End to end: a warm start whose weights cannot move evaluates exactly as
 *   its checkpoint does, and the run records the checkpoint and the freeze. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/nn.h"
#include "stopwise/stop.h"
#include "stopwise/store.h"
#include "stopwise/train.h"
#include "support.h"
#include "train/average.h"

/* ---- helpers ------------------------------------------------------------------- */

static sw_dataset *load(const char *spec)
{
    sw_data_options o = sw_data_default_options();
    o.val_frac = 0; /* every example trains: the vocabulary holds every symbol written */
    o.test_frac = 0;
    sw_dataset *ds;
    sw_error err;
    cr_assert_eq(sw_dataset_load(spec, &o, &ds, &err), SW_OK, "%s", err.msg);
    return ds;
}

static sw_model *model_for(const char *text, const sw_dataset *ds, uint64_t seed)
{
    sw_model_spec spec;
    sw_error err;
    cr_assert_eq(sw_model_spec_parse(text, &spec, &err), SW_OK, "%s", err.msg);
    if (spec.kind == SW_MODEL_GPT) {
        if (!spec.vocab) spec.vocab = sw_vocab_size(sw_dataset_vocab(ds));
        if (!spec.ctx) spec.ctx = sw_dataset_max_input_len(ds) + sw_dataset_max_ref_len(ds) + 2;
    } else {
        if (!spec.n_inputs) spec.n_inputs = sw_dataset_num_features(ds);
        if (!spec.n_classes) spec.n_classes = sw_dataset_num_classes(ds);
    }
    sw_model *m;
    cr_assert_eq(sw_model_create(&spec, seed, &m, &err), SW_OK, "%s", err.msg);
    return m;
}

/* Saves m with ds's vocabulary or class list, as a run's checkpoint carries it. */
static const char *save_for(sw_model *m, const sw_dataset *ds, const char *dir, const char *name)
{
    static char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int seq = sw_dataset_kind(ds) == SW_TASK_SEQUENCE;
    char *json = seq ? sw_vocab_to_json(sw_dataset_vocab(ds)) : sw_classes_to_json(sw_dataset_classes(ds));
    const char *kv[] = {seq ? "vocab" : "labels", json, "task", seq ? "sequence" : "classify"};
    sw_error err;
    cr_assert_eq(sw_checkpoint_save(path, m, NULL, kv, 2, &err), SW_OK, "%s", err.msg);
    free(json);
    return path;
}

static sw_tensor_info tensor(const sw_model *m, const char *name)
{
    sw_tensor_info t;
    for (int i = 0; i < sw_model_num_tensors(m); i++) {
        sw_model_tensor(m, i, &t);
        if (!strcmp(t.name, name)) return t;
    }
    cr_assert_fail("no tensor %s", name);
    return t;
}

/* Row r of tensor `name` of m (rows: the first dimension). */
static const float *row(sw_model *m, const char *name, int64_t r, size_t *width)
{
    sw_tensor_info t = tensor(m, name);
    *width = t.numel / (size_t)t.shape[0];
    cr_assert_lt(r, t.shape[0], "%s has %lld rows", name, (long long)t.shape[0]);
    return sw_model_params(m) + t.offset + (size_t)r * *width;
}

static int same_row(sw_model *a, sw_model *b, const char *name, int64_t ra, int64_t rb)
{
    size_t wa, wb;
    const float *x = row(a, name, ra, &wa), *y = row(b, name, rb, &wb);
    return wa == wb && !memcmp(x, y, sizeof(float) * wa);
}

static int same_tensor(sw_model *a, sw_model *b, const char *name)
{
    sw_tensor_info ta = tensor(a, name), tb = tensor(b, name);
    return ta.numel == tb.numel &&
           !memcmp(sw_model_params(a) + ta.offset, sw_model_params(b) + tb.offset, sizeof(float) * ta.numel);
}

/* The id of symbol `sym` among the input (target = 0) or target symbols, or -1. */
static int symbol_id(const sw_vocab *v, const char *sym, int target)
{
    int lo = target ? sw_vocab_first_target(v) : SW_TOKEN_FIRST, hi = target ? sw_vocab_size(v) : sw_vocab_first_target(v);
    for (int i = lo; i < hi; i++)
        if (!strcmp(sw_vocab_symbol(v, i), sym)) return i;
    return -1;
}

/* ---- vocabularies and label sets ---------------------------------------------------- */

Test(train_transfer, shared_symbols_keep_their_rows_at_new_ids_and_new_ones_are_fresh)
{
    const char *dir = sw_test_tmpdir();
    char spec_a[8400], spec_b[8400];
    /* A: inputs b c e, targets x y. B: inputs a b c (a new, e dropped: every
     * kept input moves up one id), targets y z (x dropped: y moves down), and
     * longer inputs (a longer context: new positions). */
    snprintf(spec_a, sizeof spec_a, "tsv:%s", sw_test_write(dir, "a.tsv", "bc\tx y\ncb\ty x\nbe\tx\nec\ty y\n"));
    snprintf(spec_b, sizeof spec_b, "tsv:%s", sw_test_write(dir, "b.tsv", "abcabc\ty z\ncb\ty\nbca\tz y\n"));
    sw_dataset *a = load(spec_a), *b = load(spec_b);
    const sw_vocab *va = sw_dataset_vocab(a), *vb = sw_dataset_vocab(b);
    sw_model *src = model_for("gpt:layers=1,d=8,heads=2,tied=0", a, 1);
    const char *path = save_for(src, a, dir, "a.safetensors");

    sw_checkpoint ck;
    sw_error err;
    cr_assert_eq(sw_checkpoint_load(path, &ck, &err), SW_OK, "%s", err.msg);
    sw_model_spec spec;
    cr_assert_eq(sw_warm_start_spec(&ck, path, b, &spec, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(spec.vocab, 0, "the vocabulary size is the data's");
    cr_assert_eq(spec.ctx, 0, "the checkpoint's context is too short for B");
    cr_assert_eq(spec.layers, 1);
    cr_assert_eq(spec.d_model, 8);
    cr_assert_eq(spec.tied, 0);
    char text[512];
    sw_model_spec_format(&spec, text, sizeof text);
    sw_model *fresh = model_for(text, b, 7), *warm = model_for(text, b, 7);
    sw_warm_start_report rep;
    cr_assert_eq(sw_warm_start(warm, b, &ck, path, &rep, &err), SW_OK, "%s", err.msg);

    cr_assert_eq(rep.rows_kept, 3, "b, c, y");
    cr_assert_eq(rep.rows_new, 2, "a, z");
    cr_assert_eq(rep.rows_dropped, 2, "e, x");
    cr_assert_eq(rep.mapped, 3, "wte, head.w, wpe");
    cr_assert_gt(rep.positions_new, 0);
    /* the setting is what we think it is: kept symbols really moved */
    cr_assert_neq(symbol_id(va, "b", 0), symbol_id(vb, "b", 0));
    cr_assert_neq(symbol_id(va, "y", 1), symbol_id(vb, "y", 1));
    int checked_moved = 0;
    for (int i = 0; i < sw_vocab_size(vb); i++) {
        int target = sw_vocab_is_target(vb, i);
        int from = i < SW_TOKEN_FIRST ? i : symbol_id(va, sw_vocab_symbol(vb, i), target);
        for (int k = 0; k < 2; k++) {
            const char *name = k ? "head.w" : "wte";
            if (from >= 0) {
                cr_assert(same_row(warm, src, name, i, from), "%s row %d ('%s') is not the checkpoint's row %d", name,
                          i, sw_vocab_symbol(vb, i), from);
                checked_moved += from != i;
            } else {
                cr_assert(same_row(warm, fresh, name, i, i), "%s row %d ('%s', new) is not the fresh row", name, i,
                          sw_vocab_symbol(vb, i));
                cr_assert_not(same_row(warm, src, name, i, i < sw_vocab_size(va) ? i : 0));
            }
        }
    }
    cr_assert_geq(checked_moved, 6, "b, c and y moved, in wte and head.w");
    /* positions: the checkpoint's first, then fresh */
    sw_tensor_info pa = tensor(src, "wpe"), pb = tensor(warm, "wpe");
    cr_assert_gt(pb.shape[0], pa.shape[0]);
    for (int64_t p = 0; p < pb.shape[0]; p++)
        cr_assert(p < pa.shape[0] ? same_row(warm, src, "wpe", p, p) : same_row(warm, fresh, "wpe", p, p), "wpe %lld",
                  (long long)p);
    /* everything else is the checkpoint's, whole */
    for (int i = 0; i < sw_model_num_tensors(warm); i++) {
        sw_tensor_info t;
        sw_model_tensor(warm, i, &t);
        if (strcmp(t.name, "wte") && strcmp(t.name, "head.w") && strcmp(t.name, "wpe"))
            cr_assert(same_tensor(warm, src, t.name), "%s", t.name);
    }
    char line[256];
    sw_warm_start_report_format(&rep, 1, line, sizeof line);
    cr_assert(strstr(line, "symbols 3 kept, 2 new (fresh rows), 2 dropped"), "%s", line);
    sw_checkpoint_free(&ck);
    sw_model_free(src);
    sw_model_free(fresh);
    sw_model_free(warm);
    sw_dataset_free(a);
    sw_dataset_free(b);
}

Test(train_transfer, a_changed_label_set_maps_the_output_layer_by_class_name)
{
    const char *dir = sw_test_tmpdir();
    char spec_a[8400], spec_b[8400];
    snprintf(spec_a, sizeof spec_a, "csv:%s",
             sw_test_write(dir, "a.csv", "f1,f2,kind\n1,2,cat\n2,1,dog\n3,3,emu\n1,1,cat\n"));
    /* cat dropped; dog and emu kept; fox and gnu new */
    snprintf(spec_b, sizeof spec_b, "csv:%s",
             sw_test_write(dir, "b.csv", "f1,f2,kind\n1,2,fox\n2,1,dog\n3,3,emu\n0,1,gnu\n"));
    sw_dataset *a = load(spec_a), *b = load(spec_b);
    sw_model *src = model_for("mlp:hidden=5", a, 1);
    const char *path = save_for(src, a, dir, "a.safetensors");
    sw_checkpoint ck;
    sw_error err;
    cr_assert_eq(sw_checkpoint_load(path, &ck, &err), SW_OK, "%s", err.msg);
    sw_model_spec spec;
    cr_assert_eq(sw_warm_start_spec(&ck, path, b, &spec, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(spec.n_classes, 0);
    char text[512];
    sw_model_spec_format(&spec, text, sizeof text);
    sw_model *fresh = model_for(text, b, 3), *warm = model_for(text, b, 3);
    cr_assert_eq(sw_model_get_spec(warm)->n_classes, 4, "the output size changed: 3 -> 4");
    sw_warm_start_report rep;
    cr_assert_eq(sw_warm_start(warm, b, &ck, path, &rep, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(rep.rows_kept, 2);
    cr_assert_eq(rep.rows_new, 2);
    cr_assert_eq(rep.rows_dropped, 1);
    const sw_classes *ca = sw_dataset_classes(a), *cb = sw_dataset_classes(b);
    for (int k = 0; k < sw_classes_count(cb); k++) {
        int from = sw_classes_find(ca, sw_classes_name(cb, k));
        for (int w = 0; w < 2; w++) {
            const char *name = w ? "fc.1.b" : "fc.1.w";
            if (from >= 0) cr_assert(same_row(warm, src, name, k, from), "%s row %s", name, sw_classes_name(cb, k));
            else cr_assert(same_row(warm, fresh, name, k, k), "%s row %s (new)", name, sw_classes_name(cb, k));
        }
    }
    cr_assert_neq(sw_classes_find(ca, "dog"), sw_classes_find(cb, "dog"), "dog moved (else the test shows little)");
    cr_assert(same_tensor(warm, src, "fc.0.w"));
    cr_assert(same_tensor(warm, src, "fc.0.b"));
    sw_checkpoint_free(&ck);
    sw_model_free(src);
    sw_model_free(fresh);
    sw_model_free(warm);
    sw_dataset_free(a);
    sw_dataset_free(b);
}

/* ---- another architecture ------------------------------------------------------------ */

/* Warm-starts a model of `model` (on ds) from path; asserts the refusal names
 * `needle` and leaves the model's weights untouched. */
static void refused(const char *path, const sw_dataset *ds, const char *model, const char *needle)
{
    sw_checkpoint ck;
    sw_error err;
    cr_assert_eq(sw_checkpoint_load(path, &ck, &err), SW_OK, "%s", err.msg);
    sw_model *m = model_for(model, ds, 5), *copy = model_for(model, ds, 5);
    sw_warm_start_report rep;
    cr_assert_eq(sw_warm_start(m, ds, &ck, path, &rep, &err), SW_ERR_INVALID, "%s took %s", model, path);
    cr_assert(strstr(err.msg, needle), "expected '%s' in: %s", needle, err.msg);
    cr_assert(strstr(err.msg, "another architecture"), "%s", err.msg);
    cr_assert_eq(memcmp(sw_model_params(m), sw_model_params(copy), sizeof(float) * sw_model_num_params(m)), 0,
                 "a refused warm start changed the model");
    sw_model_free(m);
    sw_model_free(copy);
    sw_checkpoint_free(&ck);
}

Test(train_transfer, another_architecture_is_refused_naming_the_tensor_and_shapes)
{
    const char *dir = sw_test_tmpdir();
    char seq[8400], tab[8400], tab3[8400];
    snprintf(seq, sizeof seq, "tsv:%s", sw_test_write(dir, "s.tsv", "ab\tx y\nba\ty x\n"));
    snprintf(tab, sizeof tab, "csv:%s", sw_test_write(dir, "t.csv", "f1,f2,k\n1,2,a\n2,1,b\n"));
    snprintf(tab3, sizeof tab3, "csv:%s", sw_test_write(dir, "t3.csv", "f1,f2,f3,k\n1,2,3,a\n2,1,0,b\n"));
    sw_dataset *s = load(seq), *t = load(tab), *t3 = load(tab3);
    sw_model *g = model_for("gpt:layers=2,d=8,heads=2", s, 1), *mlp = model_for("mlp:hidden=4", t, 1);
    char gpath[8400], mpath[8400];
    snprintf(gpath, sizeof gpath, "%s", save_for(g, s, dir, "g.safetensors"));
    snprintf(mpath, sizeof mpath, "%s", save_for(mlp, t, dir, "m.safetensors"));
    /* wider: the first tensor already differs beyond its rows */
    refused(gpath, s, "gpt:layers=2,d=16,heads=2", "tensor 'wte' is (8, 8) in the checkpoint but (8, 16) in the model");
    /* deeper, shallower */
    refused(gpath, s, "gpt:layers=3,d=8,heads=2", "tensor 'h.2.ln1.w' (8) of the model is not in the checkpoint");
    refused(gpath, s, "gpt:layers=1,d=8,heads=2", "tensor 'h.1.ln1.w' (8) of the checkpoint has no place in the model");
    /* another feed-forward width, an untied head */
    refused(gpath, s, "gpt:layers=2,d=8,heads=2,ff=16",
            "tensor 'h.0.mlp.fc.w' is (32, 8) in the checkpoint but (16, 8) in the model");
    refused(gpath, s, "gpt:layers=2,d=8,heads=2,tied=0", "tensor 'head.w' (8, 8) of the model is not in the checkpoint");
    /* an mlp: other hidden sizes, another feature count, another kind */
    refused(mpath, t, "mlp:hidden=6", "tensor 'fc.0.w' is (4, 2) in the checkpoint but (6, 2) in the model");
    refused(mpath, t3, "mlp:hidden=4", "tensor 'fc.0.w' is (4, 2) in the checkpoint but (4, 3) in the model");
    refused(mpath, t, "mlp:hidden=4x4", "tensor 'fc.1.w' is (2, 4) in the checkpoint but (4, 4) in the model");
    /* the spec of a warm start refuses the other task kind before any model is built */
    sw_checkpoint ck;
    sw_error err;
    sw_model_spec spec;
    cr_assert_eq(sw_checkpoint_load(gpath, &ck, &err), SW_OK);
    cr_assert_eq(sw_warm_start_spec(&ck, gpath, t, &spec, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "a gpt checkpoint (sequence task) cannot start a model for"), "%s", err.msg);
    sw_checkpoint_free(&ck);
    sw_model_free(g);
    sw_model_free(mlp);
    sw_dataset_free(s);
    sw_dataset_free(t);
    sw_dataset_free(t3);
}

/* A hostile or broken checkpoint whose vocabulary lists more symbols than its
 * embedding has rows is refused before any row is read through the map. */
Test(train_transfer, a_vocabulary_larger_than_the_embedding_is_refused)
{
    const char *dir = sw_test_tmpdir();
    char small[8400], big[8400], path[8400];
    snprintf(small, sizeof small, "tsv:%s", sw_test_write(dir, "s.tsv", "ab\tx\nba\ty\n"));
    snprintf(big, sizeof big, "tsv:%s", sw_test_write(dir, "b.tsv", "abcdefgh\tx y z w\nhgfedcba\tw z y x\n"));
    sw_dataset *s = load(small), *b = load(big);
    sw_model *m = model_for("gpt:layers=1,d=8,heads=2,ctx=24", s, 1);
    /* the small model saved with the big data's vocabulary */
    char *json = sw_vocab_to_json(sw_dataset_vocab(b));
    const char *kv[] = {"vocab", json};
    snprintf(path, sizeof path, "%s/lying.safetensors", dir);
    sw_error err;
    cr_assert_eq(sw_checkpoint_save(path, m, NULL, kv, 1, &err), SW_OK, "%s", err.msg);
    free(json);
    sw_checkpoint ck;
    cr_assert_eq(sw_checkpoint_load(path, &ck, &err), SW_OK, "%s", err.msg);
    sw_model *warm = model_for("gpt:layers=1,d=8,heads=2,ctx=24", b, 2);
    sw_warm_start_report rep;
    cr_assert_eq(sw_warm_start(warm, b, &ck, path, &rep, &err), SW_ERR_FORMAT);
    cr_assert(strstr(err.msg, "tensor 'wte' has 8 rows but its metadata lists 16 vocabulary symbols"), "%s", err.msg);
    sw_checkpoint_free(&ck);
    sw_model_free(m);
    sw_model_free(warm);
    sw_dataset_free(s);
    sw_dataset_free(b);
}

/* ---- training: frozen tensors, unfreeze points, the first evaluation ------------------------- */

#define TASK "synthetic:copy:n=1000,len=5,alphabet=6"

static sw_train_options run_in(const char *dir, const char *name, uint64_t budget)
{
    static char outs[4][8400];
    static int next;
    char *out = outs[next++ % 4];
    snprintf(out, 8400, "%s/%s", dir, name);
    sw_train_options o = sw_train_default_options();
    o.data = TASK;
    o.model = "gpt:layers=2,d=32,heads=2";
    o.budget = budget;
    o.eval_every = budget / 4;
    o.eval_limit = 40;
    o.batch = 32;
    o.policy = "none";
    o.out_dir = out;
    sw_threads_set(1); /* the host sets threads once (nn.h) */
    return o;
}

/* A source model trained on the task; its best checkpoint's path (static). */
static const char *source_checkpoint(const char *dir)
{
    static char path[8400];
    sw_train_options o = run_in(dir, "source", 150000);
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s", res.checkpoint);
    return path;
}

/* A warm start in dir/name from a fresh source checkpoint (o.init), with the
 * checkpoint's architecture and the tensors `freeze` names frozen. */
static sw_train_options warm_run(const char *dir, const char *name, uint64_t budget, const char *freeze)
{
    const char *src = source_checkpoint(dir);
    sw_train_options o = run_in(dir, name, budget);
    o.model = NULL; /* the checkpoint's architecture */
    o.init = src;
    o.freeze = freeze;
    return o;
}

static sw_model *weights_of(const char *path)
{
    sw_checkpoint ck;
    sw_error err;
    cr_assert_eq(sw_checkpoint_load(path, &ck, &err), SW_OK, "%s", err.msg);
    sw_model *m = ck.model;
    ck.model = NULL; /* taken */
    sw_checkpoint_free(&ck);
    return m;
}

Test(train_transfer, frozen_tensors_stay_bit_for_bit_through_training, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    sw_train_options o = warm_run(dir, "warm", 40000, "wte,h.0.*");
    const char *src = o.init;
    o.optimizer = "adamw:wd=0.1,l2=0.001,l1=0.0001"; /* every way a weight could move */
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    cr_assert(strstr(res.warm_start, "symbols 12 kept, 0 new"), "%s", res.warm_start);
    char last[8400];
    snprintf(last, sizeof last, "%s/last.safetensors", o.out_dir);
    sw_model *before = weights_of(src), *after = weights_of(last);
    int frozen = 0, moved = 0;
    for (int i = 0; i < sw_model_num_tensors(after); i++) {
        sw_tensor_info t;
        sw_model_tensor(after, i, &t);
        int should = !strcmp(t.name, "wte") || !strncmp(t.name, "h.0.", 4);
        if (should) {
            cr_assert(same_tensor(after, before, t.name), "frozen %s moved", t.name);
            frozen++;
        } else {
            moved += !same_tensor(after, before, t.name);
        }
    }
    cr_assert_eq(frozen, 13, "wte and h.0's 12 tensors");
    cr_assert_eq(moved, sw_model_num_tensors(after) - 13, "every other tensor trained");
    sw_model_free(before);
    sw_model_free(after);
}

Test(train_transfer, the_unfreeze_point_is_honoured_across_a_resume, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    sw_train_options o = warm_run(dir, "unfreeze", 40000, "h.0.*@20k");
    const char *src = o.init;
    o.stop_after = 20000; /* interrupted after the first step that reaches 20k: it started before */
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    cr_assert_str_eq(res.status, "interrupted");
    char last[8400];
    snprintf(last, sizeof last, "%s/last.safetensors", o.out_dir);
    sw_model *before = weights_of(src), *mid = weights_of(last);
    cr_assert(same_tensor(mid, before, "h.0.attn.qkv.w"), "frozen until 20k");
    cr_assert(same_tensor(mid, before, "h.0.ln1.w"));
    cr_assert_not(same_tensor(mid, before, "h.1.attn.qkv.w"), "h.1 trains from the start");
    o.resume = 1;
    o.stop_after = 0;
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    cr_assert_str_eq(res.status, "completed");
    sw_model *end = weights_of(last);
    cr_assert_not(same_tensor(end, mid, "h.0.attn.qkv.w"), "h.0 trains from 20k on");
    cr_assert_not(same_tensor(end, mid, "h.0.ln1.w"));
    sw_model_free(before);
    sw_model_free(mid);
    sw_model_free(end);
}

/* The strong end-to-end check: with every tensor frozen, a warm start's
 * evaluations are its checkpoint's, on the same validation and test
 * examples. So loading, the spec, the mapping and the trainer lose nothing. */
Test(train_transfer, a_warm_start_evaluates_as_its_checkpoint, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    sw_train_options o = warm_run(dir, "still", 8000, "*");
    const char *src = o.init;
    o.final_limit = SIZE_MAX; /* whole splits */
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    sw_eval_result val, test;
    cr_assert_eq(sw_evaluate_checkpoint(src, TASK, NULL, SW_SPLIT_VAL, &val, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_evaluate_checkpoint(src, TASK, NULL, SW_SPLIT_TEST, &test, &err), SW_OK, "%s", err.msg);
    cr_assert_gt(val.em, 5.0, "the source learned something (EM %.2f), so equality means something", val.em);
    cr_assert_eq(res.val_em, val.em, "warm %.4f, checkpoint %.4f", res.val_em, val.em);
    cr_assert_eq(res.test_em, test.em, "warm %.4f, checkpoint %.4f", res.test_em, test.em);
    /* the first evaluation (the sample of the select half) is the checkpoint's too: every point is */
    char curve[8400];
    snprintf(curve, sizeof curve, "%s/curve.csv", o.out_dir);
    sw_curve *c;
    cr_assert_eq(sw_curve_read_csv(curve, &c, &err), SW_OK, "%s", err.msg);
    cr_assert_geq(sw_curve_len(c), 2);
    const double *em = sw_curve_column(c, "val_em", NULL);
    cr_assert_not_null(em);
    for (size_t i = 1; i < sw_curve_len(c); i++) cr_assert_eq(em[i], em[0], "point %zu: %.4f", i, em[i]);
    cr_assert_eq(res.best_val_em, em[0]);
    sw_curve_free(c);
}

Test(train_transfer, the_run_records_its_init_checkpoint_and_freeze, .timeout = 300)
{
    const char *dir = sw_test_tmpdir();
    sw_train_options o = warm_run(dir, "recorded", 8000, "wte,h.1.*@4000");
    const char *src = o.init;
    char db[8400];
    snprintf(db, sizeof db, "%s/runs.db", dir);
    o.store = db;
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    char sha[65], real[8400];
    cr_assert_eq(sw_sha256_file(src, sha, NULL, &err), SW_OK);
    cr_assert_not_null(realpath(src, real));
    /* in the checkpoint's metadata and in the store's run row alike */
    sw_checkpoint ck;
    char best[8400];
    snprintf(best, sizeof best, "%s/best.safetensors", o.out_dir);
    cr_assert_eq(sw_checkpoint_load(best, &ck, &err), SW_OK, "%s", err.msg);
    sw_store *s;
    cr_assert_eq(sw_store_open(db, &s, &err), SW_OK, "%s", err.msg);
    sw_store_run run;
    cr_assert_eq(sw_store_run_get(s, res.run_id, &run), SW_OK, "%s", sw_store_errmsg(s));
    const char *configs[] = {sw_checkpoint_meta(&ck, "config"), run.config};
    for (int k = 0; k < 2; k++) {
        json_error_t je;
        json_t *c = json_loads(configs[k], 0, &je);
        cr_assert_not_null(c, "%s", configs[k]);
        cr_assert_str_eq(json_string_value(json_object_get(c, "init")), real);
        cr_assert_str_eq(json_string_value(json_object_get(c, "init_sha256")), sha);
        cr_assert_str_eq(json_string_value(json_object_get(c, "freeze")), "wte,h.1.*@4k");
        json_decref(c);
    }
    sw_store_run_clear(&run);
    sw_store_close(s);
    sw_checkpoint_free(&ck);
}

/* A frozen tensor is also exact in the weight average the run may pick as
 * its best: an EMA of a weight that never moves, and a LAWA mean of equal
 * snapshots, are that weight, bit for bit (d x + (1 - d) x and (x + x + x) / 3
 * round off x for about half of all x). */
Test(train_transfer, a_weight_average_keeps_frozen_weights_exact)
{
    enum { N = 1000 };
    float w[N], orig[N];
    sw_rng r;
    sw_rng_seed(&r, 9);
    for (int i = 0; i < N; i++) orig[i] = w[i] = (float)sw_rng_normal(&r);
    sw_error err;
    sw_average_spec specs[2];
    cr_assert_eq(sw_average_spec_parse("ema:decay=0.999", &specs[0], &err), SW_OK);
    cr_assert_eq(sw_average_spec_parse("lawa:k=3", &specs[1], &err), SW_OK);
    for (int k = 0; k < 2; k++) {
        sw_average a;
        cr_assert_eq(sw_average_init(&a, &specs[k], w, N, &err), SW_OK, "%s", err.msg);
        for (int step = 0; step < 50; step++) {
            w[N - 1] = orig[N - 1] + 0.01f * (float)step; /* one weight trains, the rest are frozen */
            sw_average_step(&a, w);
            if (step % 10 == 9) sw_average_snapshot(&a, w);
        }
        sw_average_swap(&a, w); /* the model now holds the average */
        for (int i = 0; i < N - 1; i++)
            cr_assert(!memcmp(&w[i], &orig[i], sizeof(float)), "%s: weight %d %.9g -> %.9g",
                      k ? "lawa" : "ema", i, (double)orig[i], (double)w[i]);
        cr_assert_neq(w[N - 1], orig[N - 1], "the trained weight is averaged");
        sw_average_swap(&a, w);
        sw_average_free(&a);
    }
}
