/* Strict number parsing: the whole string must be a number, nothing else.
 * Everything goes through sw_strto* (number.c), so the process locale never
 * changes what is accepted; token counts are formatted here too. */
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
    double v = sw_strtod(s, &end);
    /* A subnormal result (ERANGE, but finite and not 0) is a number: what
     * %.17g prints for one must read back. Overflow and underflow to 0 are not. */
    if (end == s || *end || !isfinite(v) || (errno == ERANGE && v == 0)) return SW_ERR_INVALID;
    *out = v;
    return SW_OK;
}

sw_status sw_parse_int(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s || lead_blank(s)) return SW_ERR_INVALID;
    char *end;
    errno = 0;
    long long v = sw_strtoll(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < lo || v > hi) return SW_ERR_INVALID;
    *out = v;
    return SW_OK;
}

/* A plain decimal mantissa ("12", "1.25") times a power of 1000, in integers:
 * a double loses exactness past 2^53, and every count sw_format_tokens_exact
 * prints must read back to itself. Returns 1 (read), 0 (overflow or no
 * digits) or -1 (another form, such as an exponent or more decimals than the
 * suffix holds: the caller reads it as a double). */
static int scaled_exact(const char *num, uint64_t scale, uint64_t *out)
{
    uint64_t whole = 0, frac = 0, unit = scale;
    const char *p = num;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (whole > (UINT64_MAX - 9) / 10) return 0;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (unit == 1) return -1;
            unit /= 10;
            frac += (uint64_t)(*p - '0') * unit;
        }
    if (*p) return -1;
    if (!digits || whole > (UINT64_MAX - frac) / scale) return 0;
    *out = whole * scale + frac;
    return 1;
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
        unsigned long long v = sw_strtoull(s, &end, 10);
        if (end == s || *end || errno == ERANGE) return SW_ERR_INVALID;
        *out = v;
        return SW_OK;
    }
    char num[64];
    if (n - 1 == 0 || n - 1 >= sizeof num) return SW_ERR_INVALID;
    memcpy(num, s, n - 1);
    num[n - 1] = 0;
    int exact = scaled_exact(num, (uint64_t)scale, out);
    if (exact >= 0) return exact ? SW_OK : SW_ERR_INVALID;
    double v;
    if (sw_parse_double(num, &v) != SW_OK || v < 0) return SW_ERR_INVALID;
    v *= scale;
    if (v >= 1.8e19) return SW_ERR_INVALID;
    *out = (uint64_t)(v + 0.5); /* llround would overflow a long long past 9.2e18 */
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
            else sw_snprintf(buf, len, "%.3g%s", v, units[i].suffix);
            return buf;
        }
    }
    snprintf(buf, len, "%" PRIu64, n);
    return buf;
}

char *sw_format_tokens_exact(uint64_t n, int max_decimals, char *buf, size_t len)
{
    static const struct { uint64_t div; char suffix; int width; } units[] = {
        {1000000000ull, 'G', 9}, {1000000ull, 'M', 6}, {1000ull, 'k', 3}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (n < units[i].div) continue;
        uint64_t whole = n / units[i].div, frac = n % units[i].div;
        if (frac == 0) {
            snprintf(buf, len, "%" PRIu64 "%c", whole, units[i].suffix);
            return buf;
        }
        /* a short decimal mantissa when it is exact: 1.5M, 1.25k */
        char digits[24];
        snprintf(digits, sizeof digits, "%0*" PRIu64, units[i].width, frac);
        size_t dl = strlen(digits);
        while (dl > 0 && digits[dl - 1] == '0') digits[--dl] = 0;
        if (dl <= (size_t)(max_decimals < 0 ? 0 : max_decimals)) {
            snprintf(buf, len, "%" PRIu64 ".%s%c", whole, digits, units[i].suffix);
            return buf;
        }
        break;
    }
    snprintf(buf, len, "%" PRIu64, n);
    return buf;
}
