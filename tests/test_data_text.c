/* data/: the TSV, JSON Lines, CSV and synthetic loaders, with their bad inputs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_helpers.h"
#include "stopwise/data.h"
#include "support.h"

#define FIX(kind, name) kind ":" STOPWISE_TEST_DATA "/" name

Test(data_text, tsv_groups_references)
{
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(FIX("tsv", "small.tsv"), &o);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 4);
    long cat = find_input(ds, SW_SPLIT_TRAIN, "cat");
    cr_assert_eq(sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, (size_t)cat), 2, "cat: 3 lines, 2 distinct targets");
    cr_assert(has_ref(ds, SW_SPLIT_TRAIN, (size_t)cat, "k ae t"));
    cr_assert(has_ref(ds, SW_SPLIT_TRAIN, (size_t)cat, "k aa t"));
    cr_assert(sw_vocab_target_spaced(sw_dataset_vocab(ds)));
    int n;
    const int32_t *in = sw_dataset_input(ds, SW_SPLIT_TRAIN, (size_t)cat, &n);
    cr_assert_eq(n, 3);
    const sw_vocab *v = sw_dataset_vocab(ds);
    cr_assert_str_eq(sw_vocab_symbol(v, in[0]), "c");
    cr_assert(!sw_vocab_is_target(v, in[0]));
    cr_assert_eq(sw_dataset_max_input_len(ds), 4);
    cr_assert_eq(sw_dataset_max_ref_len(ds), 3);
    cr_assert_eq(sw_dataset_kind(ds), SW_TASK_SEQUENCE);
    cr_assert_eq(sw_dataset_num_features(ds), 0);
    cr_assert_null(sw_dataset_features(ds, SW_SPLIT_TRAIN, 0));
    cr_assert_null(sw_dataset_input(ds, SW_SPLIT_TRAIN, 99, &n));
    sw_dataset_free(ds);
}

Test(data_text, tsv_bad_inputs)
{
    sw_data_options o = sw_data_default_options();
    load_fails(FIX("tsv", "bad_notab.tsv"), &o, SW_ERR_FORMAT, "bad_notab.tsv:3:", "tab");
    load_fails(FIX("tsv", "empty.tsv"), &o, SW_ERR_INVALID, "empty.tsv", "empty");
    load_fails("tsv:/nonexistent/x.tsv", &o, SW_ERR_NOT_FOUND, "/nonexistent/x.tsv", NULL);
    const char *dir = sw_test_tmpdir();
    char spec[4200];
    snprintf(spec, sizeof spec, "tsv:%s", sw_test_write(dir, "two.tsv", "a\tb\nc\td\te\n"));
    load_fails(spec, &o, SW_ERR_FORMAT, "two.tsv:2:", "more than one tab");
    snprintf(spec, sizeof spec, "tsv:%s", sw_test_write(dir, "notgt.tsv", "a\tb\nc\t  \n"));
    load_fails(spec, &o, SW_ERR_FORMAT, "notgt.tsv:2:", "target");
    load_fails("tsv", &o, SW_ERR_INVALID, "tsv", NULL);
    snprintf(spec, sizeof spec, "tsv:%s", dir);
    load_fails(spec, &o, SW_ERR_INVALID, dir, "directory");
    snprintf(spec, sizeof spec, "idx:%s,%s", dir, dir);
    load_fails(spec, &o, SW_ERR_INVALID, dir, "directory");
    load_fails("nosuchkind:abc", &o, SW_ERR_INVALID, "nosuchkind", NULL);
}

Test(data_text, jsonl_strings_and_arrays)
{
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(FIX("jsonl", "small.jsonl"), &o);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 3);
    long two = find_input(ds, SW_SPLIT_TRAIN, "2+2");
    cr_assert_eq(sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, (size_t)two), 2);
    cr_assert(has_ref(ds, SW_SPLIT_TRAIN, (size_t)two, "four"));
    long tw = find_input(ds, SW_SPLIT_TRAIN, "12+3");
    cr_assert_eq(sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, (size_t)tw), 1);
    /* no target has a space: characters */
    const sw_vocab *v = sw_dataset_vocab(ds);
    cr_assert(!sw_vocab_target_spaced(v));
    int n;
    sw_dataset_ref(ds, SW_SPLIT_TRAIN, (size_t)two, 1, &n);
    cr_assert(n == 1 || n == 4);
    long ete = find_input(ds, SW_SPLIT_TRAIN, "\xc3\xa9t\xc3\xa9");
    cr_assert_geq(ete, 0);
    sw_dataset_input(ds, SW_SPLIT_TRAIN, (size_t)ete, &n);
    cr_assert_eq(n, 3);
    sw_dataset_free(ds);

    o = sw_data_default_options();
    load_fails(FIX("jsonl", "bad.jsonl"), &o, SW_ERR_FORMAT, "bad.jsonl:2:", "target");
    const char *dir = sw_test_tmpdir();
    char spec[4200];
    snprintf(spec, sizeof spec, "jsonl:%s", sw_test_write(dir, "x.jsonl", "{\"input\":\"a\",\"target\":\"b\"}\n{\"input\": \"c\", \n"));
    load_fails(spec, &o, SW_ERR_FORMAT, "x.jsonl:2:", "JSON");
    snprintf(spec, sizeof spec, "jsonl:%s", sw_test_write(dir, "y.jsonl", "{\"target\":\"b\"}\n"));
    load_fails(spec, &o, SW_ERR_FORMAT, "y.jsonl:1:", "input");
}

Test(data_text, csv_header_names_and_classes)
{
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(FIX("csv", "small.csv"), &o);
    cr_assert_eq(sw_dataset_kind(ds), SW_TASK_CLASSIFY);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 5);
    cr_assert_eq(sw_dataset_num_features(ds), 2);
    cr_assert_eq(sw_dataset_num_classes(ds), 3);
    /* classes sorted by name */
    cr_assert_str_eq(sw_dataset_class_name(ds, 0), "setosa");
    cr_assert_str_eq(sw_dataset_class_name(ds, 1), "versicolor");
    cr_assert_str_eq(sw_dataset_class_name(ds, 2), "virginica");
    cr_assert_null(sw_dataset_class_name(ds, 3));
    /* rows in file order within the split */
    cr_assert_eq(sw_dataset_label(ds, SW_SPLIT_TRAIN, 3), 1);
    const float *x = sw_dataset_features(ds, SW_SPLIT_TRAIN, 3);
    cr_assert_float_eq(x[0], 5.5f, 1e-6);
    cr_assert_float_eq(x[1], 3.5f, 1e-6); /* a quoted number */
    cr_assert_null(sw_dataset_vocab(ds));
    sw_dataset_free(ds);

    /* the label by name, first column; by index */
    o.csv_label = "species";
    ds = load_ok(FIX("csv", "small.csv"), &o);
    cr_assert_eq(sw_dataset_num_classes(ds), 3);
    sw_dataset_free(ds);
    /* with the label named f1, species is a feature and not a number */
    o.csv_label = "f1";
    load_fails(FIX("csv", "small.csv"), &o, SW_ERR_FORMAT, "small.csv:2:3:", "number");
    const char *dir = sw_test_tmpdir();
    char spec[4200];
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "first.csv", "y,a,b\ncat,1,2\ndog,3,4\ncat,5,6\n"));
    o.csv_label = "y";
    ds = load_ok(spec, &o);
    cr_assert_eq(sw_dataset_num_classes(ds), 2);
    cr_assert_eq(sw_dataset_label(ds, SW_SPLIT_TRAIN, 1), 1);
    cr_assert_float_eq(sw_dataset_features(ds, SW_SPLIT_TRAIN, 2)[1], 6.0f, 1e-6);
    sw_dataset_free(ds);
    o.csv_label = "nope";
    load_fails(FIX("csv", "small.csv"), &o, SW_ERR_INVALID, "small.csv", "nope");
}

Test(data_text, csv_without_header_label_index)
{
    sw_data_options o = all_train();
    o.csv_label = "0";
    sw_dataset *ds = load_ok(FIX("csv", "noheader.csv"), &o);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 4, "no header detected: 4 rows");
    cr_assert_eq(sw_dataset_num_features(ds), 2);
    /* integer labels ordered numerically */
    cr_assert_str_eq(sw_dataset_class_name(ds, 0), "1");
    cr_assert_str_eq(sw_dataset_class_name(ds, 2), "3");
    cr_assert_eq(sw_dataset_label(ds, SW_SPLIT_TRAIN, 0), 2);
    cr_assert_float_eq(sw_dataset_features(ds, SW_SPLIT_TRAIN, 3)[1], -4.0f, 1e-6);
    sw_dataset_free(ds);
    /* forcing a header drops the first row */
    o.csv_header = 1;
    ds = load_ok(FIX("csv", "noheader.csv"), &o);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 3);
    sw_dataset_free(ds);
}

Test(data_text, csv_bad_inputs)
{
    sw_data_options o = sw_data_default_options();
    load_fails(FIX("csv", "bad_feature.csv"), &o, SW_ERR_FORMAT, "bad_feature.csv:4:2:", "number");
    const char *dir = sw_test_tmpdir();
    char spec[4200];
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "ragged.csv", "1,2,a\n3,4,b\n5,a\n"));
    load_fails(spec, &o, SW_ERR_FORMAT, "ragged.csv:3:", "3 comma-separated fields");
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "hdr.csv", "x,y,label\n\n"));
    load_fails(spec, &o, SW_ERR_INVALID, "hdr.csv", "empty");
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "q.csv", "1,2,\"a\n"));
    load_fails(spec, &o, SW_ERR_FORMAT, "q.csv:1:", "'\"'");
}

Test(data_text, synthetic_tasks)
{
    sw_data_options o = sw_data_default_options();
    o.synth_n = 500;
    o.synth_len = 6;
    static const char *names[] = {"addition", "reversal", "copy", "sorting"};
    for (int t = 0; t < 4; t++) {
        char spec[64];
        snprintf(spec, sizeof spec, "synthetic:%s", names[t]);
        sw_dataset *ds = load_ok(spec, &o);
        size_t total = 0;
        for (int s = 0; s < SW_SPLIT_COUNT; s++) total += sw_dataset_count(ds, (sw_split)s);
        cr_assert_eq(total, 500, "%s: %zu examples", names[t], total);
        for (int s = 0; s < SW_SPLIT_COUNT; s++)
            for (size_t i = 0; i < sw_dataset_count(ds, (sw_split)s); i++) {
                const char *in = sw_dataset_input_text(ds, (sw_split)s, i), *out = sw_dataset_ref_text(ds, (sw_split)s, i, 0);
                size_t L = strlen(in);
                char want[64];
                if (t == 0) {
                    long long a, b;
                    cr_assert_eq(sscanf(in, "%lld+%lld", &a, &b), 2, "%s", in);
                    snprintf(want, sizeof want, "%lld", a + b);
                } else {
                    cr_assert(L >= 1 && L <= 6);
                    for (size_t k = 0; k < L; k++) want[k] = t == 1 ? in[L - 1 - k] : in[k];
                    want[L] = 0;
                    if (t == 3)
                        for (size_t x = 0; x < L; x++)
                            for (size_t y = x + 1; y < L; y++)
                                if (want[y] < want[x]) { char c = want[x]; want[x] = want[y]; want[y] = c; }
                }
                cr_assert_str_eq(out, want, "%s(%s)", names[t], in);
            }
        sw_dataset_free(ds);
    }
    /* spec options override, and the name records them */
    sw_dataset *ds = load_ok("synthetic:reversal:n=50,len=3,alphabet=4", &o);
    cr_assert_str_eq(sw_dataset_name(ds), "synthetic:reversal:n=50,len=3,min=1,alphabet=4");
    cr_assert_leq(sw_vocab_num_input(sw_dataset_vocab(ds)), 4);
    sw_dataset_free(ds);
    load_fails("synthetic:division", &o, SW_ERR_INVALID, "division", NULL);
    load_fails("synthetic:copy:len=0", &o, SW_ERR_INVALID, "len", NULL);
    load_fails("synthetic:copy:width=3", &o, SW_ERR_INVALID, "width", NULL);
}

/* Found by fuzz_tsv / fuzz_lexicon: a space-mode target symbol with bytes
 * that are not UTF-8 fell out of the vocabulary's JSON (jansson refuses such
 * strings), so a checkpoint's vocabulary lost it and every later target id
 * shifted. Such bytes are read as Latin-1 characters, as in inputs. */
Test(data_text, non_utf8_target_symbols_survive_the_vocabulary_json)
{
    sw_data_options o = all_train();
    char spec[4200];
    snprintf(spec, sizeof spec, "tsv:%s",
             sw_test_write(sw_test_tmpdir(), "latin1.tsv", "cat\tk \x8c t\ndog\td \xc3\xa9 g\n"));
    sw_dataset *ds = load_ok(spec, &o);
    const sw_vocab *v = sw_dataset_vocab(ds);
    long cat = find_input(ds, SW_SPLIT_TRAIN, "cat");
    cr_assert(cat >= 0);
    cr_assert(has_ref(ds, SW_SPLIT_TRAIN, (size_t)cat, "k \xc2\x8c t"), "0x8c read as U+008C");
    char *json = sw_vocab_to_json(v);
    cr_assert_not_null(json);
    sw_vocab *back = NULL;
    sw_error e = {0};
    cr_assert_eq(sw_vocab_from_json(json, &back, &e), SW_OK, "%s", e.msg);
    cr_assert_eq(sw_vocab_size(back), sw_vocab_size(v), "every symbol survives the JSON");
    for (int32_t id = 0; id < sw_vocab_size(v); id++)
        cr_assert_str_eq(sw_vocab_symbol(back, id), sw_vocab_symbol(v, id));
    sw_vocab_free(back);
    free(json);
    sw_dataset_free(ds);
}

/* Found by fuzz_csv: the same for a CSV label (a class name). */
Test(data_text, non_utf8_csv_labels_survive_the_class_list_json)
{
    sw_data_options o = all_train();
    char spec[4200];
    snprintf(spec, sizeof spec, "csv:%s",
             sw_test_write(sw_test_tmpdir(), "latin1.csv", "a,b,y\n1,2,caf\xe9\n3,4,tea\n5,6,caf\xe9\n"));
    sw_dataset *ds = load_ok(spec, &o);
    const sw_classes *c = sw_dataset_classes(ds);
    cr_assert_eq(sw_classes_count(c), 2);
    cr_assert_geq(sw_classes_find(c, "caf\xc3\xa9"), 0, "0xe9 read as U+00E9");
    char *json = sw_classes_to_json(c);
    cr_assert_not_null(json);
    sw_classes *back = NULL;
    sw_error e = {0};
    cr_assert_eq(sw_classes_from_json(json, &back, &e), SW_OK, "%s", e.msg);
    cr_assert_eq(sw_classes_count(back), 2, "every class survives the JSON");
    /* evaluating with the stored class list finds the same labels in the file */
    sw_data_options with = all_train();
    with.classes = back;
    sw_dataset *again = load_ok(spec, &with);
    cr_assert_eq(sw_dataset_count(again, SW_SPLIT_TRAIN), 3);
    sw_dataset_free(again);
    sw_classes_free(back);
    free(json);
    sw_dataset_free(ds);
}
