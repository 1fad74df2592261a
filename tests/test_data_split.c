/* data/: seeded grouped splits, subsampling, the published split file, the
 * vocabulary (encoding, UNK counting, JSON round trip) and class lists. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_helpers.h"
#include "stopwise/data.h"
#include "support.h"

/* A TSV of n words, each with 1-3 references on lines spread over the file;
 * `reverse` writes the lines in the opposite order. Returns a static spec. */
static const char *many_refs_tsv(const char *dir, const char *name, int n, int reverse)
{
    size_t cap = (size_t)n * 3 * 40, k = 0;
    char *text = malloc(cap);
    char **lines = malloc((size_t)n * 3 * sizeof *lines);
    int nl = 0;
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < n; i++) {
            if (pass >= 1 + i % 3) continue;
            char *l = malloc(40);
            snprintf(l, 40, "w%dx\t%c %d\n", i, 'a' + pass, i % 7);
            lines[nl++] = l;
        }
    for (int j = 0; j < nl; j++) {
        const char *l = lines[reverse ? nl - 1 - j : j];
        size_t m = strlen(l);
        memcpy(text + k, l, m);
        k += m;
    }
    text[k] = 0;
    static char spec[4200];
    snprintf(spec, sizeof spec, "tsv:%s", sw_test_write(dir, name, text));
    for (int j = 0; j < nl; j++) free(lines[j]);
    free(lines);
    free(text);
    return spec;
}

/* split of each input "w<i>x" (0/1/2), or -1 when absent */
static void split_of(const sw_dataset *ds, int n, int *out)
{
    for (int i = 0; i < n; i++) out[i] = -1;
    for (int s = 0; s < SW_SPLIT_COUNT; s++)
        for (size_t k = 0; k < sw_dataset_count(ds, (sw_split)s); k++) {
            int i;
            cr_assert_eq(sscanf(sw_dataset_input_text(ds, (sw_split)s, k), "w%dx", &i), 1);
            cr_assert_eq(out[i], -1, "w%dx appears in two places", i);
            out[i] = s;
            cr_assert_eq(sw_dataset_num_refs(ds, (sw_split)s, k), 1 + i % 3, "w%dx: all references together", i);
        }
}

Test(data_split, grouped_deterministic_order_independent)
{
    const char *dir = sw_test_tmpdir();
    enum { N = 2000 };
    static int a[N], b[N], c[N], d[N];
    sw_data_options o = sw_data_default_options();
    char spec1[4200];
    snprintf(spec1, sizeof spec1, "%s", many_refs_tsv(dir, "fwd.tsv", N, 0));
    const char *spec2 = many_refs_tsv(dir, "rev.tsv", N, 1);
    sw_dataset *x = load_ok(spec1, &o), *y = load_ok(spec1, &o), *z = load_ok(spec2, &o);
    /* 90 / 5 / 5 */
    cr_assert_eq(sw_dataset_count(x, SW_SPLIT_VAL), 100);
    cr_assert_eq(sw_dataset_count(x, SW_SPLIT_TEST), 100);
    cr_assert_eq(sw_dataset_count(x, SW_SPLIT_TRAIN), 1800);
    split_of(x, N, a);
    split_of(y, N, b);
    split_of(z, N, c);
    for (int i = 0; i < N; i++) {
        cr_assert_neq(a[i], -1);
        cr_assert_eq(a[i], b[i], "same seed, same split");
        cr_assert_eq(a[i], c[i], "the file's line order does not matter");
    }
    sw_dataset_free(y);
    sw_dataset_free(z);
    o.seed = 2;
    y = load_ok(spec1, &o);
    split_of(y, N, d);
    int differ = 0;
    for (int i = 0; i < N; i++) differ += a[i] != d[i];
    cr_assert_gt(differ, 50, "another seed, another split (%d differ)", differ);
    sw_dataset_free(y);

    /* a subsample's splits are subsets of the full splits */
    o.seed = 1;
    o.max_examples = 400;
    y = load_ok(spec1, &o);
    cr_assert_eq(sw_dataset_count(y, SW_SPLIT_TRAIN), 360);
    cr_assert_eq(sw_dataset_count(y, SW_SPLIT_VAL), 20);
    cr_assert_eq(sw_dataset_count(y, SW_SPLIT_TEST), 20);
    split_of(y, N, d);
    for (int i = 0; i < N; i++)
        if (d[i] >= 0) cr_assert_eq(d[i], a[i]);
    sw_dataset_free(y);

    /* explicit fractions */
    o.max_examples = 0;
    o.val_frac = 0.2;
    o.test_frac = 0.1;
    y = load_ok(spec1, &o);
    cr_assert_eq(sw_dataset_count(y, SW_SPLIT_VAL), 400);
    cr_assert_eq(sw_dataset_count(y, SW_SPLIT_TEST), 200);
    sw_dataset_free(y);
    o.val_frac = 0.6;
    o.test_frac = 0.5;
    load_fails(spec1, &o, SW_ERR_INVALID, "fractions", NULL);
    sw_dataset_free(x);
}

Test(data_split, published_split_file)
{
    const char *dir = sw_test_tmpdir();
    sw_data_options o = sw_data_default_options();
    sw_dataset *ds = load_ok(many_refs_tsv(dir, "w.tsv", 300, 0), &o);
    char path[4200];
    snprintf(path, sizeof path, "%s/split.tsv", dir);
    sw_error e = {0};
    cr_assert_eq(sw_dataset_write_split(ds, path, &e), SW_OK, "%s", e.msg);
    char *text = sw_test_slurp(path, NULL);
    cr_assert_not_null(text);
    cr_assert(strncmp(text, "# stopwise split v1: dataset=tsv:", 33) == 0, "%.80s", text);
    cr_assert(strstr(text, "seed=1 train=270 val=15 test=15\n"));
    /* every example once, with its split */
    int lines = 0;
    for (char *l = strchr(text, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
        char split[8], word[32];
        cr_assert_eq(sscanf(l, "%7[a-z]\t%31[^\n]", split, word), 2);
        sw_split s = !strcmp(split, "train") ? SW_SPLIT_TRAIN : !strcmp(split, "val") ? SW_SPLIT_VAL : SW_SPLIT_TEST;
        cr_assert_geq(find_input(ds, s, word), 0, "%s in %s", word, split);
        lines++;
    }
    cr_assert_eq(lines, 300);
    free(text);
    sw_dataset_free(ds);

    /* classification: line numbers */
    o.val_frac = 0;
    o.test_frac = 0;
    ds = load_ok("csv:" STOPWISE_TEST_DATA "/small.csv", &o);
    cr_assert_eq(sw_dataset_write_split(ds, path, &e), SW_OK, "%s", e.msg);
    text = sw_test_slurp(path, NULL);
    cr_assert(strstr(text, "\ntrain\tline:2\n"), "%s", text);
    cr_assert(strstr(text, "\ntrain\tline:6\n"), "%s", text);
    free(text);
    sw_dataset_free(ds);
    cr_assert_eq(sw_dataset_write_split(NULL, path, &e), SW_ERR_INVALID);
}

Test(data_split, vocab_from_train_unk_counted)
{
    sw_data_options o = sw_data_default_options();
    o.synth_n = 3000;
    sw_dataset *ds = load_ok("synthetic:reversal:len=5,alphabet=26", &o);
    const sw_vocab *v = sw_dataset_vocab(ds);
    /* input and target ranges are disjoint and sorted */
    cr_assert_eq(sw_vocab_first_target(v), SW_TOKEN_FIRST + sw_vocab_num_input(v));
    cr_assert_eq(sw_vocab_size(v), SW_TOKEN_FIRST + sw_vocab_num_input(v) + sw_vocab_num_target(v));
    cr_assert_str_eq(sw_vocab_symbol(v, SW_TOKEN_FIRST), "a");
    cr_assert_str_eq(sw_vocab_symbol(v, SW_TOKEN_EOS), "<eos>");
    cr_assert_null(sw_vocab_symbol(v, sw_vocab_size(v)));
    cr_assert_eq(sw_dataset_unknown_symbols(ds, SW_SPLIT_TRAIN), 0);

    /* a vocabulary that lacks 'z': every z in every split is UNK, counted */
    char *json = sw_vocab_to_json(v);
    cr_assert_not_null(json);
    char *zin = strstr(json, ",\"z\"");
    cr_assert_not_null(zin, "%s", json);
    memmove(zin, zin + 4, strlen(zin + 4) + 1); /* drop the input z only */
    sw_vocab *noz = NULL;
    sw_error e = {0};
    cr_assert_eq(sw_vocab_from_json(json, &noz, &e), SW_OK, "%s", e.msg);
    free(json);
    o.vocab = noz;
    sw_dataset *d2 = load_ok("synthetic:reversal:len=5,alphabet=26", &o);
    for (int s = 0; s < SW_SPLIT_COUNT; s++) {
        size_t want = 0, got_unk = 0;
        for (size_t i = 0; i < sw_dataset_count(d2, (sw_split)s); i++) {
            int n;
            const int32_t *in = sw_dataset_input(d2, (sw_split)s, i, &n);
            for (const char *p = sw_dataset_input_text(d2, (sw_split)s, i); *p; p++) want += *p == 'z';
            for (int k = 0; k < n; k++) got_unk += in[k] == SW_TOKEN_UNK;
        }
        cr_assert_gt(want, 0);
        cr_assert_eq(got_unk, want);
        cr_assert_eq(sw_dataset_unknown_symbols(d2, (sw_split)s), want, "split %d", s);
    }
    sw_dataset_free(d2);
    sw_vocab_free(noz);
    sw_dataset_free(ds);
}

Test(data_split, unseen_symbols_in_val_and_test)
{
    /* each word has its own rare letter in a mostly-abc alphabet: symbols only
     * in val/test inputs must be UNK there and counted */
    const char *dir = sw_test_tmpdir();
    char *text = malloc(200000);
    size_t k = 0;
    for (int i = 0; i < 2000; i++) {
        char rare = (char)(0x80 + i % 64); /* 64 distinct Latin-1 characters */
        k += (size_t)snprintf(text + k, 200000 - k, "%c%c%d%c\tx y\n", 'a' + i % 3, 'b', i, i % 50 == 0 ? rare : 'c');
    }
    text[k] = 0;
    char spec[4200];
    snprintf(spec, sizeof spec, "tsv:%s", sw_test_write(dir, "rare.tsv", text));
    free(text);
    sw_data_options o = sw_data_default_options();
    sw_dataset *ds = load_ok(spec, &o);
    const sw_vocab *v = sw_dataset_vocab(ds);
    for (int s = 1; s < SW_SPLIT_COUNT; s++) {
        size_t want = 0;
        for (size_t i = 0; i < sw_dataset_count(ds, (sw_split)s); i++) {
            const char *in = sw_dataset_input_text(ds, (sw_split)s, i);
            int32_t ids[64];
            int unk = 0;
            int n = sw_vocab_encode_input(v, in, ids, 64, &unk);
            int m;
            const int32_t *stored = sw_dataset_input(ds, (sw_split)s, i, &m);
            cr_assert_eq(n, m);
            cr_assert_eq(memcmp(ids, stored, (size_t)n * sizeof *ids), 0);
            want += (size_t)unk;
        }
        cr_assert_eq(sw_dataset_unknown_symbols(ds, (sw_split)s), want);
    }
    cr_assert_eq(sw_dataset_unknown_symbols(ds, SW_SPLIT_TRAIN), 0);
    /* 40 words carry a rare character; ~4 land outside train, and with 64
     * rare characters nearly all of theirs are unseen in train */
    cr_assert_gt(sw_dataset_unknown_symbols(ds, SW_SPLIT_VAL) + sw_dataset_unknown_symbols(ds, SW_SPLIT_TEST), 0);
    sw_dataset_free(ds);
}

Test(data_split, vocab_encode_decode_json)
{
    sw_data_options o = sw_data_default_options();
    o.val_frac = 0;
    o.test_frac = 0;
    sw_dataset *ds = load_ok("tsv:" STOPWISE_TEST_DATA "/small.tsv", &o);
    const sw_vocab *v = sw_dataset_vocab(ds);
    int32_t ids[8];
    int unk = 0;
    /* the count of symbols is returned even past max (like snprintf) */
    cr_assert_eq(sw_vocab_encode_input(v, "catQdog", ids, 3, &unk), 7);
    cr_assert_eq(unk, 1);
    cr_assert_str_eq(sw_vocab_symbol(v, ids[2]), "t");
    unk = 0;
    int n = sw_vocab_encode_target(v, "  k ae   zz t", ids, 8, &unk);
    cr_assert_eq(n, 4);
    cr_assert_eq(unk, 1);
    cr_assert_eq(ids[2], SW_TOKEN_UNK);
    char buf[64];
    cr_assert_str_eq(sw_vocab_decode_target(v, ids, n, buf, sizeof buf), "k ae <unk> t");
    ids[2] = SW_TOKEN_EOS;
    cr_assert_str_eq(sw_vocab_decode_target(v, ids, n, buf, sizeof buf), "k ae");
    cr_assert_str_eq(sw_vocab_decode_target(v, ids, 2, buf, 3), "k ");
    /* JSON round trip: same ids, same symbols, same text */
    char *json = sw_vocab_to_json(v);
    sw_vocab *back = NULL;
    sw_error e = {0};
    cr_assert_eq(sw_vocab_from_json(json, &back, &e), SW_OK, "%s", e.msg);
    cr_assert_eq(sw_vocab_size(back), sw_vocab_size(v));
    cr_assert_eq(sw_vocab_first_target(back), sw_vocab_first_target(v));
    cr_assert_eq(sw_vocab_target_spaced(back), 1);
    for (int id = 0; id < sw_vocab_size(v); id++) cr_assert_str_eq(sw_vocab_symbol(back, id), sw_vocab_symbol(v, id));
    char *json2 = sw_vocab_to_json(back);
    cr_assert_str_eq(json, json2);
    free(json2);
    sw_vocab_free(back);
    free(json);
    sw_dataset_free(ds);
    sw_vocab_free(NULL);

    /* non-ASCII symbols survive (escaped in the JSON) */
    ds = load_ok("jsonl:" STOPWISE_TEST_DATA "/small.jsonl", &o);
    json = sw_vocab_to_json(sw_dataset_vocab(ds));
    cr_assert(strstr(json, "\\u00E9"), "%s", json);
    cr_assert_eq(sw_vocab_from_json(json, &back, &e), SW_OK, "%s", e.msg);
    unk = 0;
    cr_assert_eq(sw_vocab_encode_input(back, "\xc3\xa9t\xc3\xa9", ids, 8, &unk), 3);
    cr_assert_eq(unk, 0);
    sw_vocab_free(back);
    free(json);
    sw_dataset_free(ds);

    /* bad JSON */
    static const struct { const char *json; sw_status st; } bad[] = {
        {"{", SW_ERR_FORMAT},
        {"[]", SW_ERR_FORMAT},
        {"{\"version\":2,\"target_mode\":\"chars\",\"input\":[],\"target\":[]}", SW_ERR_VERSION},
        {"{\"version\":1,\"target_mode\":\"words\",\"input\":[],\"target\":[]}", SW_ERR_FORMAT},
        {"{\"version\":1,\"target_mode\":\"chars\",\"input\":[\"a\",\"a\"],\"target\":[]}", SW_ERR_FORMAT},
        {"{\"version\":1,\"target_mode\":\"chars\",\"input\":[\"a\",3],\"target\":[]}", SW_ERR_FORMAT},
        {"{\"version\":1,\"target_mode\":\"chars\",\"input\":[\"a\"]}", SW_ERR_FORMAT},
        {"{\"version\":1,\"target_mode\":\"space\",\"input\":[],\"target\":[\"a b\"]}", SW_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        back = (sw_vocab *)1;
        cr_assert_eq(sw_vocab_from_json(bad[i].json, &back, &e), bad[i].st, "%s: %s", bad[i].json, e.msg);
        cr_assert_null(back);
        cr_assert(strncmp(e.msg, "vocabulary: ", 12) == 0, "%s", e.msg);
    }
}

Test(data_split, classes_json_and_features)
{
    sw_data_options o = sw_data_default_options();
    o.val_frac = 0;
    o.test_frac = 0;
    sw_dataset *ds = load_ok("csv:" STOPWISE_TEST_DATA "/small.csv", &o);
    const sw_classes *c = sw_dataset_classes(ds);
    char *json = sw_classes_to_json(c);
    sw_classes *back = NULL;
    sw_error e = {0};
    cr_assert_eq(sw_classes_from_json(json, &back, &e), SW_OK, "%s", e.msg);
    cr_assert_eq(sw_classes_count(back), 3);
    cr_assert_eq(sw_classes_num_features(back), 2);
    cr_assert_str_eq(sw_classes_name(back, 1), "versicolor");
    cr_assert_eq(sw_classes_find(back, "virginica"), 2);
    cr_assert_eq(sw_classes_find(back, "rose"), -1);
    float x[2];
    cr_assert_eq(sw_classes_parse_features(back, " 1.5, -2e1\n", x, &e), SW_OK, "%s", e.msg);
    cr_assert_float_eq(x[1], -20.0f, 1e-6);
    cr_assert_eq(sw_classes_parse_features(back, "1.5", x, &e), SW_ERR_FORMAT);
    cr_assert_eq(sw_classes_parse_features(back, "1,2,3", x, &e), SW_ERR_FORMAT);
    cr_assert_eq(sw_classes_parse_features(back, "1,abc", x, &e), SW_ERR_FORMAT);
    cr_assert(strstr(e.msg, "column 2"), "%s", e.msg);

    /* a checkpoint's class list drives another file's labels */
    o.classes = back;
    const char *dir = sw_test_tmpdir();
    char spec[4200];
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "t.csv", "a,b,species\n1,2,virginica\n3,4,setosa\n"));
    sw_dataset *d2 = load_ok(spec, &o);
    cr_assert_eq(sw_dataset_label(d2, SW_SPLIT_TRAIN, 0), 2);
    cr_assert_eq(sw_dataset_label(d2, SW_SPLIT_TRAIN, 1), 0);
    cr_assert_eq(sw_dataset_num_classes(d2), 3);
    sw_dataset_free(d2);
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "u.csv", "a,b,species\n1,2,virginica\n3,4,rose\n"));
    load_fails(spec, &o, SW_ERR_FORMAT, "u.csv:3:3:", "rose");
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "w.csv", "a,b,c,species\n1,2,3,virginica\n"));
    load_fails(spec, &o, SW_ERR_INVALID, "w.csv", "features");
    sw_classes_free(back);
    free(json);
    sw_dataset_free(ds);
    sw_classes_free(NULL);
    sw_dataset_free(NULL);

    cr_assert_eq(sw_classes_from_json("{\"version\":1}", &back, &e), SW_ERR_FORMAT);
    cr_assert_null(back);
    cr_assert_eq(sw_classes_from_json("{\"version\":9}", &back, &e), SW_ERR_VERSION);
}

/* K folds of the training split: each run leaves out a different fold, the
 * folds partition the training split, validation and test do not move. */
Test(data_split, training_folds_partition_the_training_split)
{
    sw_data_options o = sw_data_default_options();
    sw_dataset *full, *part[3];
    cr_assert_eq(sw_dataset_load("synthetic:copy:n=3000,len=6", &o, &full, NULL), SW_OK);
    size_t ntrain = sw_dataset_count(full, SW_SPLIT_TRAIN), left_out = 0;
    for (int k = 0; k < 3; k++) {
        o.train_fold = k;
        o.train_folds = 3;
        cr_assert_eq(sw_dataset_load("synthetic:copy:n=3000,len=6", &o, &part[k], NULL), SW_OK);
        size_t n = sw_dataset_count(part[k], SW_SPLIT_TRAIN);
        cr_assert(n > ntrain / 2 && n < ntrain, "fold %d keeps %zu of %zu", k, n, ntrain);
        left_out += ntrain - n;
        for (int s = SW_SPLIT_VAL; s <= SW_SPLIT_TEST; s++) {
            cr_assert_eq(sw_dataset_count(part[k], (sw_split)s), sw_dataset_count(full, (sw_split)s));
            for (size_t i = 0; i < sw_dataset_count(full, (sw_split)s); i++)
                cr_assert_str_eq(sw_dataset_input_text(part[k], (sw_split)s, i),
                                 sw_dataset_input_text(full, (sw_split)s, i));
        }
    }
    cr_assert_eq(left_out, ntrain, "the three left-out folds must partition the training split");
    o.train_fold = 3;
    sw_dataset *bad = NULL;
    cr_assert_eq(sw_dataset_load("synthetic:copy:n=3000,len=6", &o, &bad, NULL), SW_ERR_INVALID);
    cr_assert_null(bad);
    for (int k = 0; k < 3; k++) sw_dataset_free(part[k]);
    sw_dataset_free(full);
}
