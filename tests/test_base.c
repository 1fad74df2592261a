/* base/: number parsing and formatting (also under a comma-decimal locale),
 * token formatting, growable arrays, random numbers, whole-file reads and
 * atomic writes. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
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

/* Found by fuzz_levers: counts past 2^53 and 2^63 with a suffix were read
 * through a double and llround, so "10000000000G" came back wrong. */
Test(base, parse_tokens_large_suffixed_counts_are_exact)
{
    uint64_t v;
    cr_assert_eq(sw_parse_tokens("10000000000G", &v), SW_OK);
    cr_assert_eq(v, 10000000000000000000u);
    cr_assert_eq(sw_parse_tokens("17999999999G", &v), SW_OK);
    cr_assert_eq(v, 17999999999000000000u);
    cr_assert_eq(sw_parse_tokens("18446744073.709551G", &v), SW_OK);
    cr_assert_eq(v, 18446744073709551000u);
    cr_assert_neq(sw_parse_tokens("18446744074G", &v), SW_OK);
    cr_assert_eq(sw_parse_tokens("1.2345k", &v), SW_OK); /* more decimals than the suffix holds: rounded */
    cr_assert_eq(v, 1235u);
    cr_assert_eq(sw_parse_tokens("1e3k", &v), SW_OK);
    cr_assert_eq(v, 1000000u);
    char b[32];
    uint64_t big[] = {10000000000000000000u, 17999999999000000000u, 9223372036854775808u, UINT64_MAX / 1000 * 1000};
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) {
        cr_assert_eq(sw_parse_tokens(sw_format_tokens_exact(big[i], 3, b, sizeof b), &v), SW_OK, "%s", b);
        cr_assert_eq(v, big[i], "%s", b);
    }
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

/* ---- numbers in text, whatever the process locale ------------------------------ */

Test(base, format_double_is_shortest_exact)
{
    char b[32];
    cr_assert_str_eq(sw_format_double(0.1, b, sizeof b), "0.1");
    cr_assert_str_eq(sw_format_double(10, b, sizeof b), "10");
    cr_assert_str_eq(sw_format_double(-2.5, b, sizeof b), "-2.5");
    cr_assert_str_eq(sw_format_double(0, b, sizeof b), "0");
    cr_assert_str_eq(sw_format_double(3e-5, b, sizeof b), "3e-05");
    cr_assert_str_eq(sw_format_double(0.1 + 0.2, b, sizeof b), "0.30000000000000004");
    cr_assert_str_eq(sw_format_double(1e300, b, sizeof b), "1e+300");
    cr_assert_str_eq(sw_format_double(NAN, b, sizeof b), "nan");
    cr_assert_str_eq(sw_format_double(-INFINITY, b, sizeof b), "-inf");
    cr_assert_str_eq(sw_format_float(0.2f, b, sizeof b), "0.2");
    cr_assert_str_eq(sw_format_float(0.1f, b, sizeof b), "0.1");
    cr_assert_str_eq(sw_format_float(1.0f / 3.0f, b, sizeof b), "0.33333334");
    sw_rng r;
    sw_rng_seed(&r, 11);
    for (int i = 0; i < 20000; i++) {
        /* random bit patterns: every finite double and float reads back exactly */
        uint64_t u = sw_rng_next(&r);
        double x;
        memcpy(&x, &u, sizeof x);
        if (!isfinite(x)) continue;
        char *e;
        double y = sw_strtod(sw_format_double(x, b, sizeof b), &e); /* sw_parse_double refuses subnormals */
        cr_assert(!*e && memcmp(&x, &y, sizeof x) == 0, "%a -> %s -> %a", x, b, y);
        uint32_t v = (uint32_t)u;
        float f;
        memcpy(&f, &v, sizeof f);
        if (!isfinite(f)) continue;
        float g = sw_strtof(sw_format_float(f, b, sizeof b), &e);
        cr_assert(!*e && memcmp(&f, &g, sizeof f) == 0, "%a -> %s -> %a", (double)f, b, (double)g);
    }
}

Test(base, format_tokens_exact_reads_back)
{
    char b[24];
    cr_assert_str_eq(sw_format_tokens_exact(20000000, 3, b, sizeof b), "20M");
    cr_assert_str_eq(sw_format_tokens_exact(1500000, 3, b, sizeof b), "1.5M");
    cr_assert_str_eq(sw_format_tokens_exact(1250, 3, b, sizeof b), "1.25k");
    cr_assert_str_eq(sw_format_tokens_exact(1234567, 3, b, sizeof b), "1234567");
    cr_assert_str_eq(sw_format_tokens_exact(1500, 0, b, sizeof b), "1500", "no decimals allowed");
    cr_assert_str_eq(sw_format_tokens_exact(2000, 0, b, sizeof b), "2k");
    cr_assert_str_eq(sw_format_tokens_exact(0, 3, b, sizeof b), "0");
    sw_rng r;
    sw_rng_seed(&r, 5);
    for (int i = 0; i < 5000; i++) {
        uint64_t n = sw_rng_next(&r) >> (sw_rng_below(&r, 60) + 4), back;
        for (int d = 0; d <= 3; d++) {
            cr_assert_eq(sw_parse_tokens(sw_format_tokens_exact(n, d, b, sizeof b), &back), SW_OK, "%s", b);
            cr_assert_eq(back, n, "%s", b);
        }
    }
}

/* Defect 10: under a comma-decimal process locale every parser still reads
 * "0.5" whole and every printer still writes "0.5"; the process locale is
 * left as the host set it. */
Test(base, numbers_ignore_a_comma_decimal_locale)
{
    sw_test_comma_locale();
    double d;
    cr_assert_eq(sw_parse_double("0.5", &d), SW_OK);
    cr_assert(d == 0.5);
    cr_assert_eq(sw_parse_double("1.5e-3", &d), SW_OK);
    cr_assert(d == 1.5e-3);
    cr_assert_neq(sw_parse_double("0,5", &d), SW_OK, "the comma is never a decimal point");
    uint64_t t;
    cr_assert_eq(sw_parse_tokens("1.5M", &t), SW_OK);
    cr_assert_eq(t, 1500000u);
    long long i;
    cr_assert_eq(sw_parse_int("-42", -100, 100, &i), SW_OK);
    cr_assert_eq(i, -42);
    char *end;
    cr_assert(sw_strtod("0x1.8p+1", &end) == 3.0 && !*end, "hex floats (controller state) read back");
    cr_assert(sw_strtof("0.25", &end) == 0.25f && !*end);
    cr_assert_eq(sw_strtoll("-7", &end, 10), -7);
    cr_assert_eq(sw_strtoull("18446744073709551615", &end, 10), UINT64_MAX);

    char b[64];
    cr_assert_str_eq(sw_format_double(0.5, b, sizeof b), "0.5");
    cr_assert_str_eq(sw_format_float(0.1f, b, sizeof b), "0.1");
    cr_assert_str_eq(sw_format_tokens(1500, b, sizeof b), "1.5k");
    sw_snprintf(b, sizeof b, "%.9g|%a|%.2f", 0.25, 3.0, 1.5);
    cr_assert_str_eq(b, "0.25|0x1.8p+1|1.50");
    sw_error err;
    sw_error_set(&err, SW_ERR_INVALID, "lr=%g", 0.003);
    cr_assert_str_eq(err.msg, "lr=0.003", "error messages too");

    const char *dir = sw_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/n.txt", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    sw_fprintf(f, "%.9g,%g\n", 0.125, -2.5);
    fclose(f);
    char *text = sw_test_slurp(path, NULL);
    cr_assert_str_eq(text, "0.125,-2.5\n");
    free(text);

    /* the host's locale is untouched, for this thread and the process */
    cr_assert_str_eq(localeconv()->decimal_point, ",");
    snprintf(b, sizeof b, "%g", 0.5);
    cr_assert_str_eq(b, "0,5");
    setlocale(LC_NUMERIC, "C");
}

typedef struct { int id, bad; } worker;

static void *number_worker(void *arg)
{
    worker *w = arg;
    char b[32];
    sw_rng r;
    sw_rng_seed(&r, (uint64_t)w->id);
    for (int i = 0; i < 20000 && !w->bad; i++) {
        double x = (sw_rng_uniform(&r) - 0.5) * 1e6, y;
        if (sw_parse_double(sw_format_double(x, b, sizeof b), &y) != SW_OK || y != x || strchr(b, ',')) w->bad = 1;
    }
    return NULL;
}

/* Threads that race to create the private "C" locale and then format and
 * parse side by side, under a comma-decimal process locale. */
Test(base, numbers_are_thread_safe)
{
    sw_test_comma_locale();
    pthread_t th[8];
    worker w[8];
    for (int k = 0; k < 8; k++) {
        w[k] = (worker){k + 1, 0};
        cr_assert_eq(pthread_create(&th[k], NULL, number_worker, &w[k]), 0);
    }
    for (int k = 0; k < 8; k++) {
        pthread_join(th[k], NULL);
        cr_assert_eq(w[k].bad, 0, "thread %d saw a wrong number", k);
    }
    cr_assert_str_eq(localeconv()->decimal_point, ",");
    setlocale(LC_NUMERIC, "C");
}

/* ---- growable arrays ------------------------------------------------------------- */

Test(base, array_reserve_grows_and_keeps_contents)
{
    int *v = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(SW_ARRAY_RESERVE(v, cap, n + 1), SW_OK);
        cr_assert_geq(cap, n + 1);
        v[n++] = i * 3;
    }
    cr_assert_leq(cap, 2048, "growth doubles, it does not explode");
    for (int i = 0; i < 1000; i++) cr_assert_eq(v[i], i * 3);
    size_t before = cap;
    cr_assert_eq(SW_ARRAY_RESERVE(v, cap, 10), SW_OK, "enough room: nothing to do");
    cr_assert_eq(cap, before);
    cr_assert_eq(sw_array_grown_cap(0, 1), 16);
    cr_assert_eq(sw_array_grown_cap(16, 17), 32);
    cr_assert_eq(sw_array_grown_cap(16, 100), 100);
    cr_assert_eq(sw_array_grown_cap(SIZE_MAX / 2 + 1, SIZE_MAX), SIZE_MAX, "saturates");
    /* a size that overflows fails cleanly and leaves the array as it was */
    int *keep = v;
    cr_assert_eq(SW_ARRAY_RESERVE(v, cap, SIZE_MAX / 2), SW_ERR_NOMEM);
    cr_assert_eq(v, keep);
    cr_assert_eq(cap, before);
    cr_assert_eq(v[999], 2997);
    /* several arrays on one capacity */
    double *a = NULL;
    char *c = NULL;
    cr_assert_eq(SW_ARRAY_RESIZE(a, 40), SW_OK);
    cr_assert_eq(SW_ARRAY_RESIZE(c, 40), SW_OK);
    a[39] = 1.5;
    c[39] = 'x';
    cr_assert_eq(SW_ARRAY_RESIZE(a, 80), SW_OK);
    cr_assert(a[39] == 1.5);
    free(v);
    free(a);
    free(c);
}

/* ---- whole files ------------------------------------------------------------------ */

Test(base, file_read_whole_files_and_errors)
{
    const char *dir = sw_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/big.txt", dir);
    /* larger than the first guess of a pipe-sized buffer, with a NUL inside */
    size_t n = 200000;
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (char)('a' + i % 26);
    data[100] = 0;
    cr_assert_eq(sw_file_write_atomic(path, data, n, NULL), SW_OK);
    char *buf;
    size_t len;
    sw_error err;
    cr_assert_eq(sw_file_read(path, &buf, &len, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(len, n);
    cr_assert(memcmp(buf, data, n) == 0);
    cr_assert_eq(buf[n], 0, "NUL-terminated");
    free(buf);
    free(data);
    /* a file whose size stat does not know (procfs reports 0) */
    cr_assert_eq(sw_file_read("/proc/self/status", &buf, &len, &err), SW_OK, "%s", err.msg);
    cr_assert_gt(len, 0);
    cr_assert_not_null(strstr(buf, "Name:"));
    free(buf);
    snprintf(path, sizeof path, "%s/empty.txt", dir);
    cr_assert_eq(sw_file_write_atomic(path, "", 0, NULL), SW_OK);
    cr_assert_eq(sw_file_read(path, &buf, &len, &err), SW_OK);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(buf, "");
    free(buf);
    snprintf(path, sizeof path, "%s/missing.txt", dir);
    cr_assert_eq(sw_file_read(path, &buf, &len, &err), SW_ERR_NOT_FOUND);
    cr_assert_null(buf);
    cr_assert_not_null(strstr(err.msg, "missing.txt"));
    cr_assert_eq(sw_file_read(dir, &buf, &len, &err), SW_ERR_INVALID);
    cr_assert_not_null(strstr(err.msg, "directory"));
}

/* Found by fuzz_policy: a subnormal read from hex ("0x1p-1074") printed as
 * "4.9406564584124654e-324", which strtod flags ERANGE and the parser
 * refused, so the printed policy did not read back. */
Test(base, parse_double_keeps_subnormals)
{
    double d = 0;
    cr_assert_eq(sw_parse_double("4.9406564584124654e-324", &d), SW_OK);
    cr_assert(d > 0 && d < 1e-300);
    cr_assert_eq(sw_parse_double("1e-310", &d), SW_OK);
    cr_assert_neq(sw_parse_double("1e-400", &d), SW_OK, "underflow to 0 is refused");
    cr_assert_neq(sw_parse_double("1e400", &d), SW_OK, "overflow is refused");
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
