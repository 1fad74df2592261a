/* Strict number parsing: the whole string must be a number, nothing else. */
#include "stopwise/base.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* strto* skip leading whitespace (and strtoull then negates a '-'): refuse
 * it, so " -5" is not a number here. */
static int lead_blank(const char *s) { return *s == ' ' || (*s >= '\t' && *s <= '\r'); }

sw_status sw_parse_double(const char *s, double *out)
{
    if (!s || !*s || lead_blank(s)) return SW_ERR_INVALID;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v)) return SW_ERR_INVALID;
    *out = v;
    return SW_OK;
}

sw_status sw_parse_int(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s || lead_blank(s)) return SW_ERR_INVALID;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < lo || v > hi) return SW_ERR_INVALID;
    *out = v;
    return SW_OK;
}

sw_status sw_parse_tokens(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || lead_blank(s)) return SW_ERR_INVALID;
    size_t n = strlen(s);
    double scale = 1;
    char last = s[n - 1];
    if (last == 'k' || last == 'K') scale = 1e3;
    else if (last == 'M') scale = 1e6;
    else if (last == 'G') scale = 1e9;
    if (scale == 1) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || *end || errno == ERANGE) return SW_ERR_INVALID;
        *out = v;
        return SW_OK;
    }
    char num[64];
    if (n - 1 == 0 || n - 1 >= sizeof num) return SW_ERR_INVALID;
    memcpy(num, s, n - 1);
    num[n - 1] = 0;
    double v;
    if (sw_parse_double(num, &v) != SW_OK || v < 0) return SW_ERR_INVALID;
    v *= scale;
    if (v >= 1.8e19) return SW_ERR_INVALID;
    *out = (uint64_t)llround(v);
    return SW_OK;
}

char *sw_format_tokens(uint64_t n, char *buf, size_t len)
{
    static const struct { uint64_t div; const char *suffix; } units[] = {
        {1000000000ull, "G"}, {1000000ull, "M"}, {1000ull, "k"}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (n >= units[i].div) {
            double v = (double)n / (double)units[i].div;
            if (n % units[i].div == 0) snprintf(buf, len, "%" PRIu64 "%s", n / units[i].div, units[i].suffix);
            else snprintf(buf, len, "%.3g%s", v, units[i].suffix);
            return buf;
        }
    }
    snprintf(buf, len, "%" PRIu64, n);
    return buf;
}
