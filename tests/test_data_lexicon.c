/* data/: the Festival lexicon loader (cmudict), on fixtures and on the real
 * festlex-cmu lexicon. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_helpers.h"
#include "support.h"
#include "stopwise/data.h"

#define FIX(name) "cmudict:" STOPWISE_TEST_DATA "/" name

Test(data_lexicon, entries_forms_and_references)
{
    sw_data_options o = all_train();
    sw_dataset *ds = load_ok(FIX("lexicon_small.out"), &o);
    cr_assert_eq(sw_dataset_kind(ds), SW_TASK_SEQUENCE);
    /* a, abbot, o"brien, café, naïve, zzz, read, lexicon */
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 8);
    long a = find_input(ds, SW_SPLIT_TRAIN, "a");
    cr_assert_geq(a, 0);
    /* three entries, two distinct pronunciations: both references, any pos */
    cr_assert_eq(sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, (size_t)a), 2);
    cr_assert(has_ref(ds, SW_SPLIT_TRAIN, (size_t)a, "ax0"));
    cr_assert(has_ref(ds, SW_SPLIT_TRAIN, (size_t)a, "ey1"));
    /* upper case folded; stress on vowels only; syllables flattened */
    long ab = find_input(ds, SW_SPLIT_TRAIN, "abbot");
    cr_assert_geq(ab, 0);
    cr_assert_str_eq(sw_dataset_ref_text(ds, SW_SPLIT_TRAIN, (size_t)ab, 0), "ae1 b ax0 t");
    long lx = find_input(ds, SW_SPLIT_TRAIN, "lexicon");
    cr_assert_str_eq(sw_dataset_ref_text(ds, SW_SPLIT_TRAIN, (size_t)lx, 0), "l eh1 k s ax0 k aa2 n");
    /* an escaped quote in the word */
    cr_assert_geq(find_input(ds, SW_SPLIT_TRAIN, "o\"brien"), 0);
    /* UTF-8 and a raw Latin-1 byte both load; an unsyllabified entry, list pos */
    long cafe = find_input(ds, SW_SPLIT_TRAIN, "caf\xc3\xa9");
    cr_assert_geq(cafe, 0);
    int n;
    sw_dataset_input(ds, SW_SPLIT_TRAIN, (size_t)cafe, &n);
    cr_assert_eq(n, 4, "café is 4 characters (UTF-8 code points), got %d", n);
    long naive = find_input(ds, SW_SPLIT_TRAIN, "na\xefve");
    cr_assert_geq(naive, 0);
    sw_dataset_input(ds, SW_SPLIT_TRAIN, (size_t)naive, &n);
    cr_assert_eq(n, 5, "the Latin-1 byte is one character");
    long z = find_input(ds, SW_SPLIT_TRAIN, "zzz");
    cr_assert_str_eq(sw_dataset_ref_text(ds, SW_SPLIT_TRAIN, (size_t)z, 0), "z iy z");
    long rd = find_input(ds, SW_SPLIT_TRAIN, "read");
    cr_assert_eq(sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, (size_t)rd), 2);
    /* phones are target symbols, decoded with spaces */
    const sw_vocab *v = sw_dataset_vocab(ds);
    cr_assert(sw_vocab_target_spaced(v));
    const int32_t *ids = sw_dataset_ref(ds, SW_SPLIT_TRAIN, (size_t)ab, 0, &n);
    cr_assert_eq(n, 4);
    for (int i = 0; i < n; i++) cr_assert(sw_vocab_is_target(v, ids[i]));
    char buf[128];
    cr_assert_str_eq(sw_vocab_decode_target(v, ids, n, buf, sizeof buf), "ae1 b ax0 t");
    cr_assert_str_eq(sw_dataset_name(ds), "cmudict:" STOPWISE_TEST_DATA "/lexicon_small.out");
    sw_dataset_free(ds);
}

Test(data_lexicon, published_form)
{
    sw_data_options o = all_train();
    o.published = 1;
    sw_dataset *ds = load_ok(FIX("lexicon_small.out"), &o);
    long ab = find_input(ds, SW_SPLIT_TRAIN, "abbot");
    cr_assert_str_eq(sw_dataset_ref_text(ds, SW_SPLIT_TRAIN, (size_t)ab, 0), "ae b ah t");
    long a = find_input(ds, SW_SPLIT_TRAIN, "a");
    cr_assert(has_ref(ds, SW_SPLIT_TRAIN, (size_t)a, "ah"));
    cr_assert(has_ref(ds, SW_SPLIT_TRAIN, (size_t)a, "ey"));
    const sw_vocab *v = sw_dataset_vocab(ds);
    for (int id = sw_vocab_first_target(v); id < sw_vocab_size(v); id++) {
        const char *s = sw_vocab_symbol(v, id);
        cr_assert(strcmp(s, "ax") != 0, "no ax in the published form");
        cr_assert(!strpbrk(s, "0123456789"), "no stress digits in the published form: %s", s);
    }
    cr_assert(strstr(sw_dataset_name(ds), "+published"));
    sw_dataset_free(ds);
    char buf[64];
    cr_assert_str_eq(sw_phones_published("ax0  b ae1 k ", buf, sizeof buf), "ah b ae k");
    cr_assert_str_eq(sw_phones_published("l eh1 k s ax0", buf, 8), "l eh k");
}

Test(data_lexicon, malformed_line_names_file_and_line)
{
    sw_data_options o = sw_data_default_options();
    load_fails(FIX("lexicon_bad.out"), &o, SW_ERR_FORMAT, "lexicon_bad.out:4:", "expected");
    load_fails("cmudict:/nonexistent/lexicon.out", &o, SW_ERR_NOT_FOUND, "/nonexistent/lexicon.out", NULL);
}

Test(data_lexicon, malformed_variants)
{
    static const char *bad[] = {
        "(\"word\" nil (((w er d) 1))",       /* entry not closed */
        "(\"word nil (((w er d) 1)))",        /* word not closed */
        "(\"word\" nil (((w er d))))",        /* no stress */
        "(\"word\" nil (((w er d) x)))",      /* stress not a digit */
        "(\"word\" nil ())",                  /* no phones */
        "(\"word\" nil ((() 1)))",            /* an empty syllable */
        "(\"word\" nil (((w er d) 1))) junk", /* text after the entry */
        "\"word\" nil (((w er d) 1))",        /* no opening parenthesis */
        "(\"\" nil (((w er d) 1)))",          /* empty word */
        "(\"word\")",                         /* no pos, no pronunciation */
    };
    const char *dir = sw_test_tmpdir();
    sw_data_options o = sw_data_default_options();
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char text[256], spec[4200];
        snprintf(text, sizeof text, "MNCL\n(\"ok\" nil (((ow) 1) ((k ey) 1)))\n%s\n", bad[k]);
        const char *path = sw_test_write(dir, "bad.out", text);
        snprintf(spec, sizeof spec, "cmudict:%s", path);
        load_fails(spec, &o, SW_ERR_FORMAT, "bad.out:3:", "expected");
    }
    /* a lexicon of comments only is an empty dataset, named */
    const char *path = sw_test_write(dir, "empty.out", "MNCL\n; nothing\n\n");
    char spec[4200];
    snprintf(spec, sizeof spec, "cmudict:%s", path);
    load_fails(spec, &o, SW_ERR_INVALID, "empty.out", "no examples");
}

/* The real lexicon of Debian's festlex-cmu (scripts/setup.sh installs it). */
Test(data_lexicon, real_cmudict_counts)
{
    sw_data_options o = sw_data_default_options();
    /* its speed is measured by bench/lexicon_load.c, not asserted here */
    sw_dataset *ds = load_ok("cmudict", &o);
    /* 105,901 entries of 105,664 distinct words (checked with awk) */
    size_t tr = sw_dataset_count(ds, SW_SPLIT_TRAIN), va = sw_dataset_count(ds, SW_SPLIT_VAL),
           te = sw_dataset_count(ds, SW_SPLIT_TEST);
    cr_assert_eq(tr + va + te, 105664, "%zu words", tr + va + te);
    cr_assert_eq(va, 5283);
    cr_assert_eq(te, 5283);
    cr_assert_str_eq(sw_dataset_name(ds), "cmudict");
    const sw_vocab *v = sw_dataset_vocab(ds);
    cr_assert_eq(sw_vocab_num_input(v), 26, "lower-case letters only, got %d", sw_vocab_num_input(v));
    /* "lead" has two pronunciations, both references of one example in one split */
    int found = 0;
    for (int s = 0; s < SW_SPLIT_COUNT; s++) {
        long i = find_input(ds, (sw_split)s, "lead");
        if (i < 0) continue;
        found++;
        cr_assert_eq(sw_dataset_num_refs(ds, (sw_split)s, (size_t)i), 2);
        cr_assert(has_ref(ds, (sw_split)s, (size_t)i, "l eh1 d"));
        cr_assert(has_ref(ds, (sw_split)s, (size_t)i, "l iy1 d"));
    }
    cr_assert_eq(found, 1);
    sw_dataset_free(ds);

    o.published = 1;
    ds = load_ok("cmudict", &o);
    v = sw_dataset_vocab(ds);
    /* the 39 phones of CMUdict's published set */
    cr_assert_eq(sw_vocab_num_target(v), 39, "%d target symbols", sw_vocab_num_target(v));
    sw_dataset_free(ds);
}
