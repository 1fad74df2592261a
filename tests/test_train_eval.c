/* train/: scoring answers against several references, edit distance, and the
 * bit-exact checkpoint round trip. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/train.h"
#include "support.h"

Test(train_eval, edit_distance)
{
    int32_t a[] = {1, 2, 3, 4}, b[] = {1, 3, 4}, c[] = {4, 3, 2, 1};
    cr_assert_eq(sw_edit_distance(a, 4, a, 4), 0);
    cr_assert_eq(sw_edit_distance(a, 4, b, 3), 1);          /* one deletion */
    cr_assert_eq(sw_edit_distance(b, 3, a, 4), 1);          /* one insertion */
    cr_assert_eq(sw_edit_distance(a, 4, c, 4), 4);          /* reversed: four substitutions */
    cr_assert_eq(sw_edit_distance(a, 0, b, 3), 3);
    cr_assert_eq(sw_edit_distance(a, 4, b, 0), 4);
}

static size_t find(const sw_dataset *ds, sw_split s, const char *input)
{
    for (size_t i = 0; i < sw_dataset_count(ds, s); i++)
        if (!strcmp(sw_dataset_input_text(ds, s, i), input)) return i;
    cr_assert_fail("input %s not found", input);
    return 0;
}

/* EM counts an answer right when it equals ANY reference of its input. */
Test(train_eval, exact_match_with_several_references)
{
    const char *dir = sw_test_tmpdir();
    char path[8400];
    snprintf(path, sizeof path, "tsv:%s", sw_test_write(dir, "lex.tsv", "lead\tl iy d\nlead\tl eh d\ncat\tk ae t\n"));
    sw_data_options o = sw_data_default_options();
    o.val_frac = 0;
    o.test_frac = 0;
    sw_dataset *ds;
    sw_error err;
    cr_assert_eq(sw_dataset_load(path, &o, &ds, &err), SW_OK, "%s", err.msg);
    const sw_vocab *v = sw_dataset_vocab(ds);
    size_t lead = find(ds, SW_SPLIT_TRAIN, "lead");
    cr_assert_eq(sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, lead), 2);
    int32_t ids[16];
    int d, len;
    const char *right[] = {"l iy d", "l eh d"};
    for (int k = 0; k < 2; k++) {
        int n = sw_vocab_encode_target(v, right[k], ids, 16, NULL);
        cr_assert_eq(sw_score_answer(ds, SW_SPLIT_TRAIN, lead, ids, n, &d, &len), 1, "%s must count", right[k]);
        cr_assert_eq(d, 0);
    }
    int n = sw_vocab_encode_target(v, "l ae d", ids, 16, NULL); /* ae is a known phone (cat) */
    cr_assert_eq(sw_score_answer(ds, SW_SPLIT_TRAIN, lead, ids, n, &d, &len), 0);
    cr_assert_eq(d, 1, "one substitution from either reference");
    cr_assert_eq(len, 3);
    n = sw_vocab_encode_target(v, "l iy", ids, 16, NULL); /* a prefix is not a match */
    cr_assert_eq(sw_score_answer(ds, SW_SPLIT_TRAIN, lead, ids, n, &d, &len), 0);
    size_t cat = find(ds, SW_SPLIT_TRAIN, "cat");
    n = sw_vocab_encode_target(v, "l iy d", ids, 16, NULL); /* another input's reference */
    cr_assert_eq(sw_score_answer(ds, SW_SPLIT_TRAIN, cat, ids, n, &d, &len), 0);
    sw_dataset_free(ds);
}

Test(train_eval, checkpoint_round_trip_is_bit_exact)
{
    sw_model_spec spec;
    sw_model *m;
    sw_optimizer *opt;
    sw_optimizer_params op = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW);
    cr_assert_eq(sw_model_spec_parse("gpt:layers=2,d=16,heads=2,ctx=8,vocab=11,tied=0", &spec, NULL), SW_OK);
    cr_assert_eq(sw_model_create(&spec, 42, &m, NULL), SW_OK);
    cr_assert_eq(sw_optimizer_create(&op, sw_model_num_params(m), &opt, NULL), SW_OK);
    size_t count;
    float *state = sw_optimizer_state(opt, &count);
    for (size_t i = 0; i < count; i++) state[i] = (float)i * 1e-3f - 0.5f; /* distinct, non-zero moments */
    const char *dir = sw_test_tmpdir();
    char path[8400];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    const char *kv[] = {"task", "sequence", "note", "caf\xc3\xa9 \"quoted\""};
    sw_error err;
    cr_assert_eq(sw_checkpoint_save(path, m, opt, kv, 2, &err), SW_OK, "%s", err.msg);
    sw_checkpoint ck;
    cr_assert_eq(sw_checkpoint_load(path, &ck, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_model_num_params(ck.model), sw_model_num_params(m));
    cr_assert_eq(memcmp(sw_model_params(ck.model), sw_model_params(m), sizeof(float) * sw_model_num_params(m)), 0);
    cr_assert_eq(ck.optimizer_count, count);
    cr_assert_eq(memcmp(ck.optimizer_state, state, sizeof(float) * count), 0);
    cr_assert_str_eq(sw_checkpoint_meta(&ck, "note"), "caf\xc3\xa9 \"quoted\"");
    cr_assert_str_eq(sw_checkpoint_meta(&ck, "format"), "stopwise");
    cr_assert_null(sw_checkpoint_meta(&ck, "absent"));
    sw_checkpoint_free(&ck);
    /* a model saved without an optimizer loads without one */
    cr_assert_eq(sw_checkpoint_save(path, m, NULL, NULL, 0, &err), SW_OK);
    cr_assert_eq(sw_checkpoint_load(path, &ck, &err), SW_OK);
    cr_assert_null(ck.optimizer_state);
    sw_checkpoint_free(&ck);
    sw_checkpoint_free(NULL);
    sw_optimizer_free(opt);
    sw_model_free(m);
}

/* Review defect 5, also reachable from fuzz_checkpoint: the header's model
 * spec was allocated before its tensors were held against the file, so a
 * 100-byte file could ask for terabytes. Now refused before allocating. */
Test(train_eval, checkpoint_header_cannot_ask_for_more_than_the_file_holds)
{
    static const char header[] =
        "{\"__metadata__\":{\"format\":\"stopwise\",\"model\":\"gpt:layers=256,d=16384,heads=1,ctx=1,vocab=16777216\"}}";
    char path[4200];
    snprintf(path, sizeof path, "%s/huge.safetensors", sw_test_tmpdir());
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    unsigned char len8[8] = {0};
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((sizeof header - 1) >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(header, 1, sizeof header - 1, f);
    fclose(f);
    sw_checkpoint ck;
    sw_error err = {0};
    cr_assert_eq(sw_checkpoint_load(path, &ck, &err), SW_ERR_FORMAT, "%s", err.msg);
    cr_assert(strstr(err.msg, "more than the"), "%s", err.msg); /* "... parameters (...), more than the N-byte data section holds" */
    cr_assert_null(ck.model);
}

/* `eval --json` with a non-finite loss: json_pack refuses NaN and infinity,
 * so the text used to be NULL and the CLI crashed on puts(NULL). Non-finite
 * numbers are written as null. */
Test(train_eval, result_json_writes_non_finite_numbers_as_null)
{
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        sw_eval_result r = {.em = 50, .loss = bad[k], .per = 12.5, .em_published = -1, .n = 4, .correct = 2};
        char *text = sw_eval_result_json(&r, "test");
        cr_assert_not_null(text, "no JSON for loss %g", bad[k]);
        json_t *o = json_loads(text, 0, NULL);
        cr_assert(json_is_object(o), "%s", text);
        cr_assert(json_is_null(json_object_get(o, "loss")), "%s", text);
        cr_assert_eq(json_real_value(json_object_get(o, "em")), 50.0);
        cr_assert_eq(json_real_value(json_object_get(o, "per")), 12.5);
        cr_assert_null(json_object_get(o, "em_published"));
        cr_assert_str_eq(json_string_value(json_object_get(o, "split")), "test");
        json_decref(o);
        free(text);
    }
    sw_eval_result ok = {.em = 100, .loss = 0.25, .per = -1, .em_published = -1, .n = 1, .correct = 1};
    char *text = sw_eval_result_json(&ok, "val");
    json_t *o = json_loads(text, 0, NULL);
    cr_assert_eq(json_real_value(json_object_get(o, "loss")), 0.25, "%s", text);
    cr_assert_null(json_object_get(o, "per"), "no per for classification: %s", text);
    json_decref(o);
    free(text);
}
