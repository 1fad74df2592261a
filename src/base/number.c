/* Numbers in text whatever the process locale: the one door through which
 * stopwise parses and prints every number it reads or writes as text.
 *
 * A host program may call setlocale(LC_NUMERIC, "de_DE.UTF-8"); libc's
 * strtod and printf then read and write "0,5". The library must not change
 * the process locale (that would break the host), so each call here switches
 * only the calling thread to a private "C" locale_t with uselocale() and back
 * again before it returns. uselocale is per thread, so this is thread-safe;
 * the locale object is created once, on first use, with a compare-and-swap
 * (the loser frees its copy) and lives until exit. */
#include "stopwise/base.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic(locale_t) c_locale;

static locale_t c_locale_get(void)
{
    locale_t l = atomic_load_explicit(&c_locale, memory_order_acquire);
    if (l) return l;
    locale_t fresh = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!fresh) return (locale_t)0;
    locale_t expected = (locale_t)0;
    if (atomic_compare_exchange_strong_explicit(&c_locale, &expected, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    freelocale(fresh); /* another thread won; use its object */
    return expected;
}

/* Switches this thread to the "C" locale; returns the locale to restore, or
 * (locale_t)0 if the "C" locale is not available (uselocale never returns 0
 * on success: a thread on the global locale gets LC_GLOBAL_LOCALE). */
static locale_t c_begin(void)
{
    locale_t c = c_locale_get();
    return c ? uselocale(c) : (locale_t)0;
}

static void c_end(locale_t old)
{
    int e = errno; /* keep the parser's errno */
    uselocale(old);
    errno = e;
}

double sw_strtod(const char *s, char **end)
{
    locale_t old = c_begin();
    if (!old) {
        if (end) *end = (char *)s;
        errno = EINVAL;
        return 0;
    }
    double v = strtod(s, end);
    c_end(old);
    return v;
}

float sw_strtof(const char *s, char **end)
{
    locale_t old = c_begin();
    if (!old) {
        if (end) *end = (char *)s;
        errno = EINVAL;
        return 0;
    }
    float v = strtof(s, end);
    c_end(old);
    return v;
}

long long sw_strtoll(const char *s, char **end, int base)
{
    locale_t old = c_begin();
    if (!old) {
        if (end) *end = (char *)s;
        errno = EINVAL;
        return 0;
    }
    long long v = strtoll(s, end, base);
    c_end(old);
    return v;
}

unsigned long long sw_strtoull(const char *s, char **end, int base)
{
    locale_t old = c_begin();
    if (!old) {
        if (end) *end = (char *)s;
        errno = EINVAL;
        return 0;
    }
    unsigned long long v = strtoull(s, end, base);
    c_end(old);
    return v;
}

int sw_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
    locale_t old = c_begin();
    if (!old) {
        if (buf && len) buf[0] = 0;
        return -1;
    }
    int n = vsnprintf(buf, len, fmt, ap);
    c_end(old);
    return n;
}

int sw_snprintf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = sw_vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n;
}

int sw_fprintf(FILE *fp, const char *fmt, ...)
{
    locale_t old = c_begin();
    if (!old) return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(fp, fmt, ap);
    va_end(ap);
    c_end(old);
    return n;
}

/* The shortest "%.Ng" (N = 1..max_prec) that reads back as x (through
 * strtof when single, else strtod); `plain` skips exponent forms for
 * ordinary magnitudes ("10", not "1e+01"). The whole search
 * runs inside one locale switch. */
static char *format_shortest(double x, int single, char *buf, size_t len)
{
    if (!buf || !len) return buf;
    if (!isfinite(x)) {
        snprintf(buf, len, "%s", isnan(x) ? "nan" : x > 0 ? "inf" : "-inf");
        return buf;
    }
    locale_t old = c_begin();
    if (!old) {
        buf[0] = 0;
        return buf;
    }
    int max_prec = single ? 9 : 17;
    float axf = fabsf((float)x); /* a float's bounds compare in float, as they always have */
    double ax = fabs(x);
    int plain = single ? axf == 0 || (axf >= 1e-4f && axf < 1e9f) : ax == 0 || (ax >= 1e-4 && ax < 1e15);
    int done = 0;
    for (int prec = 1; prec <= max_prec && !done; prec++) {
        snprintf(buf, len, "%.*g", prec, x);
        if (plain && strchr(buf, 'e')) continue;
        done = single ? strtof(buf, NULL) == (float)x : strtod(buf, NULL) == x;
    }
    if (!done) snprintf(buf, len, "%.*g", max_prec, x);
    c_end(old);
    return buf;
}

char *sw_format_double(double x, char *buf, size_t len) { return format_shortest(x, 0, buf, len); }

char *sw_format_float(float x, char *buf, size_t len) { return format_shortest((double)x, 1, buf, len); }
