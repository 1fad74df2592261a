/* base/: number parsing, token formatting, random numbers, atomic writes. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/base.h"
#include "support.h"

Test(base, parse_tokens_suffixes)
{
    uint64_t v;
    cr_assert_eq(sw_parse_tokens("20M", &v), SW_OK);
    cr_assert_eq(v, 20000000u);
    cr_assert_eq(sw_parse_tokens("1.5k", &v), SW_OK);
    cr_assert_eq(v, 1500u);
    cr_assert_eq(sw_parse_tokens("3G", &v), SW_OK);
    cr_assert_eq(v, 3000000000u);
    cr_assert_eq(sw_parse_tokens("123", &v), SW_OK);
    cr_assert_eq(v, 123u);
    cr_assert_neq(sw_parse_tokens("-5", &v), SW_OK);
    cr_assert_neq(sw_parse_tokens("5X", &v), SW_OK);
    cr_assert_neq(sw_parse_tokens("M", &v), SW_OK);
    cr_assert_neq(sw_parse_tokens("", &v), SW_OK);
    cr_assert_neq(sw_parse_tokens("12 ", &v), SW_OK);
}

Test(base, format_tokens)
{
    char b[32];
    cr_assert_str_eq(sw_format_tokens(20000000, b, sizeof b), "20M");
    cr_assert_str_eq(sw_format_tokens(1500, b, sizeof b), "1.5k");
    cr_assert_str_eq(sw_format_tokens(999, b, sizeof b), "999");
}

Test(base, parse_numbers_strict)
{
    double d;
    long long i;
    cr_assert_eq(sw_parse_double("1e-3", &d), SW_OK);
    cr_assert_float_eq(d, 1e-3, 1e-15);
    cr_assert_neq(sw_parse_double("nan", &d), SW_OK);
    cr_assert_neq(sw_parse_double("1.0x", &d), SW_OK);
    cr_assert_eq(sw_parse_int("42", 0, 100, &i), SW_OK);
    cr_assert_eq(i, 42);
    cr_assert_neq(sw_parse_int("101", 0, 100, &i), SW_OK);
    cr_assert_neq(sw_parse_int("4.2", 0, 100, &i), SW_OK);
}

Test(base, rng_is_seeded_and_uniform)
{
    sw_rng a, b;
    sw_rng_seed(&a, 7);
    sw_rng_seed(&b, 7);
    for (int i = 0; i < 100; i++) cr_assert_eq(sw_rng_next(&a), sw_rng_next(&b));
    sw_rng_seed(&b, 8);
    cr_assert_neq(sw_rng_next(&a), sw_rng_next(&b));
    double sum = 0;
    for (int i = 0; i < 100000; i++) sum += sw_rng_uniform(&a);
    cr_assert_float_eq(sum / 100000, 0.5, 0.01);
    uint32_t idx[50];
    for (uint32_t i = 0; i < 50; i++) idx[i] = i;
    sw_rng_shuffle(&a, idx, 50);
    int seen[50] = {0}, moved = 0;
    for (int i = 0; i < 50; i++) {
        seen[idx[i]]++;
        moved += idx[i] != (uint32_t)i;
    }
    for (int i = 0; i < 50; i++) cr_assert_eq(seen[i], 1);
    cr_assert_gt(moved, 10);
    cr_assert_eq(sw_hash3(1, 2, 3), sw_hash3(1, 2, 3));
    cr_assert_neq(sw_hash3(1, 2, 3), sw_hash3(1, 2, 4));
}

Test(base, atomic_write_replaces_whole_file_and_leaves_no_temp)
{
    const char *dir = sw_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    cr_assert_eq(sw_file_write_atomic(path, "old", 3, NULL), SW_OK);
    cr_assert_eq(sw_file_write_atomic(path, "newer", 5, NULL), SW_OK);
    char *got = sw_test_slurp(path, NULL);
    cr_assert_str_eq(got, "newer");
    free(got);
    sw_atomic_file f;
    cr_assert_eq(sw_atomic_file_open(&f, path, NULL), SW_OK);
    fputs("partial", sw_atomic_file_fp(&f));
    sw_atomic_file_abort(&f);
    got = sw_test_slurp(path, NULL);
    cr_assert_str_eq(got, "newer", "abort must keep the old contents");
    free(got);
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));) entries += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(entries, 1, "no temporary file may remain");
    sw_error err;
    cr_assert_eq(sw_file_write_atomic("/nonexistent-dir/x", "a", 1, &err), SW_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent-dir/x"));
}

/* sw_error_set may be given its own message as an argument (prefixing a
 * lower layer's error): the result is the prefix and the old message, once. */
Test(base, error_set_may_quote_its_own_message)
{
    sw_error e;
    sw_error_set(&e, SW_ERR_FORMAT, "curve: bad metric name '%s'", "a,b");
    cr_assert_eq(sw_error_set(&e, SW_ERR_INVALID, "run %d: evaluation %d: %s", 7, 1, e.msg), SW_ERR_INVALID);
    cr_assert_str_eq(e.msg, "run 7: evaluation 1: curve: bad metric name 'a,b'");
    cr_assert_eq(e.status, SW_ERR_INVALID);
    /* a NULL error is allowed and only returns the status */
    cr_assert_eq(sw_error_set(NULL, SW_ERR_IO, "%s", "x"), SW_ERR_IO);
}

/* " -5" used to slip past the minus check (it looks at the first byte) and
 * strtoull, which skips the blank and negates, read about 1.8e19 tokens.
 * Leading whitespace of any kind is refused by every strict parser. */
Test(base, parse_refuses_leading_whitespace_and_hidden_signs)
{
    static const char *bad[] = {" -5", "\t-5", "\n5", " 5", "  12k", " -1M", "-5", "+5"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        uint64_t v = 77;
        cr_assert_neq(sw_parse_tokens(bad[k], &v), SW_OK, "'%s' read as %llu", bad[k], (unsigned long long)v);
        cr_assert_eq(v, 77, "'%s' changed the output", bad[k]);
    }
    double d;
    long long i;
    cr_assert_neq(sw_parse_double(" 1.5", &d), SW_OK);
    cr_assert_neq(sw_parse_double("\t1.5", &d), SW_OK);
    cr_assert_neq(sw_parse_int(" 42", 0, 100, &i), SW_OK);
    cr_assert_neq(sw_parse_int("\n-3", -10, 10, &i), SW_OK);
    uint64_t v;
    cr_assert_eq(sw_parse_tokens("5", &v), SW_OK); /* the plain forms still read */
    cr_assert_eq(v, 5u);
    cr_assert_eq(sw_parse_int("-3", -10, 10, &i), SW_OK);
    cr_assert_eq(i, -3);
}
