/* Synthetic sequence tasks for tests and demos (never headline numbers):
 *   addition  "12+345" -> "357"   operands of min..len digits
 *   reversal  "abcd"   -> "dcba"
 *   copy      "abcd"   -> "abcd"
 *   sorting   "dbca"   -> "abcd"
 * Strings have min..len characters (uniform) from the first `alphabet`
 * lower-case letters. Inputs are distinct: generation draws until n distinct
 * inputs or 20 n + 1000 draws (a small space may give fewer). Deterministic
 * given the seed. */
#include "data/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TASK_ADD = 1, TASK_REV, TASK_COPY, TASK_SORT };

static int char_cmp(const void *a, const void *b) { return *(const char *)a - *(const char *)b; }

/* Decimal string addition: a + b into out (room for max(la, lb) + 2). */
static void add_decimal(const char *a, const char *b, char *out)
{
    size_t la = strlen(a), lb = strlen(b), n = (la > lb ? la : lb) + 1;
    char tmp[600];
    int carry = 0;
    for (size_t i = 0; i < n; i++) {
        int d = carry;
        if (i < la) d += a[la - 1 - i] - '0';
        if (i < lb) d += b[lb - 1 - i] - '0';
        tmp[i] = (char)('0' + d % 10);
        carry = d / 10;
    }
    while (n > 1 && tmp[n - 1] == '0') n--;
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = 0;
}

static void random_number(sw_rng *r, int digits, char *out)
{
    for (int i = 0; i < digits; i++) out[i] = (char)('0' + sw_rng_below(r, 10));
    if (digits > 1 && out[0] == '0') out[0] = (char)('1' + sw_rng_below(r, 9));
    out[digits] = 0;
}

sw_status sw_load_synthetic(sw_dataset *ds, const char *args, const sw_data_options *opt, sw_error *err)
{
    char name[32];
    const char *colon = strchr(args, ':');
    size_t nl = colon ? (size_t)(colon - args) : strlen(args);
    if (nl >= sizeof name) nl = sizeof name - 1;
    memcpy(name, args, nl);
    name[nl] = 0;
    int task = !strcmp(name, "addition") ? TASK_ADD : !strcmp(name, "reversal") ? TASK_REV
               : !strcmp(name, "copy")   ? TASK_COPY : !strcmp(name, "sorting") ? TASK_SORT : 0;
    if (!task)
        return sw_error_set(err, SW_ERR_INVALID,
                            "data spec \"synthetic:%s\": expected a task addition, reversal, copy or sorting", args);
    long long n = (long long)opt->synth_n, len = opt->synth_len, minlen = 1, alpha = 26;
    if (colon) {
        char *copy = strdup(colon + 1);
        if (!copy) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        sw_status st = SW_OK;
        for (char *p = copy, *save = NULL, *kv; !st && (kv = strtok_r(p, ",", &save)); p = NULL) {
            char *eq = strchr(kv, '=');
            long long v = 0;
            if (eq) *eq = 0;
            long long *dst = !strcmp(kv, "n") ? &n : !strcmp(kv, "len") ? &len : !strcmp(kv, "min") ? &minlen
                             : !strcmp(kv, "alphabet") ? &alpha : NULL;
            if (!eq || !dst || sw_parse_int(eq + 1, 1, 10000000, &v))
                st = sw_error_set(err, SW_ERR_INVALID,
                                  "data spec \"synthetic:%s\": expected k=v options with k in n, len, min, alphabet "
                                  "and v a positive integer, got \"%s%s%s\"",
                                  args, kv, eq ? "=" : "", eq ? eq + 1 : "");
            else *dst = v;
        }
        free(copy);
        if (st) return st;
    }
    if (n < 1 || n > 10000000 || len < 1 || len > 256 || minlen < 1 || minlen > len || alpha < 2 || alpha > 26)
        return sw_error_set(err, SW_ERR_INVALID,
                            "data spec \"synthetic:%s\": expected 1 <= n <= 10000000, 1 <= min <= len <= 256, "
                            "2 <= alphabet <= 26",
                            args);
    size_t nn = 96 + strlen(name);
    ds->name = malloc(nn);
    if (!ds->name) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    if (task == TASK_ADD) snprintf(ds->name, nn, "synthetic:%s:n=%lld,len=%lld,min=%lld", name, n, len, minlen);
    else snprintf(ds->name, nn, "synthetic:%s:n=%lld,len=%lld,min=%lld,alphabet=%lld", name, n, len, minlen, alpha);

    sw_rng r;
    sw_rng_seed(&r, sw_hash3(opt->seed, SW_STREAM_SYNTH, (uint64_t)task));
    sw_seq_raw raw = {0};
    raw.arena = &ds->arena;
    sw_status st = SW_OK;
    char in[600], out[600];
    long long tries = 20 * n + 1000;
    while (!st && (long long)raw.n < n && tries-- > 0) {
        int L = (int)(minlen + (long long)sw_rng_below(&r, (uint64_t)(len - minlen + 1)));
        if (task == TASK_ADD) {
            int L2 = (int)(minlen + (long long)sw_rng_below(&r, (uint64_t)(len - minlen + 1)));
            char a[300], b[300];
            random_number(&r, L, a);
            random_number(&r, L2, b);
            snprintf(in, sizeof in, "%s+%s", a, b);
            add_decimal(a, b, out);
        } else {
            for (int i = 0; i < L; i++) in[i] = (char)('a' + sw_rng_below(&r, (uint64_t)alpha));
            in[L] = 0;
            memcpy(out, in, (size_t)L + 1);
            if (task == TASK_REV)
                for (int i = 0; i < L; i++) out[i] = in[L - 1 - i];
            else if (task == TASK_SORT)
                qsort(out, (size_t)L, 1, char_cmp);
        }
        st = sw_seq_raw_add(&raw, in, strlen(in), out, strlen(out), (uint32_t)raw.n + 1, err);
    }
    if (!st) st = sw_seq_finish(ds, &raw, opt, ds->name, err);
    sw_seq_raw_free(&raw);
    return st;
}
