/* Saving and restoring a controller's whole state as text, so a resumed run
 * makes bit-identical decisions. Doubles travel as C99 hexadecimal floats
 * (%a), which strtod reads back exactly. %a prints the locale's decimal
 * point ("0x1,8p+1" under de_DE), so writing and reading go through
 * sw_vsnprintf and sw_strto* (the "C" locale, whatever the process's).
 *
 *   stopwise-controller 1
 *   policy <policy text>
 *   budget <u64> n <count> stopped <0|1> best <index> <have> pred <mean> <sd> <have>
 *   h <tokens> <mon> <vloss> <tloss>                       (n lines; best so far is recomputed)
 *   r <ref> <have_ref> <wait> <since> <last_strip> <have_strip> <rises> <horizon> <theta x9> <ok x3>
 *   end
 */
#include "stop/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out_buf {
    char *buf;
    size_t cap, pos;
} out_buf;

static void emit(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(out_buf *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *dst = o->pos < o->cap ? o->buf + o->pos : NULL;
    size_t room = o->pos < o->cap ? o->cap - o->pos : 0;
    int n = sw_vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0) o->pos += (size_t)n;
}

size_t sw_controller_save(const sw_controller *c, char *buf, size_t cap)
{
    out_buf o = {buf, cap, 0};
    char ptext[4096];
    sw_policy_format(&c->policy, ptext, sizeof ptext);
    emit(&o, "stopwise-controller 1\npolicy %s\n", ptext);
    emit(&o, "budget %llu n %zu stopped %d best %zu %d pred %a %a %d\n", (unsigned long long)c->budget, c->n, c->stopped,
         c->best_index, c->have_best, c->pred_mean, c->pred_sd, c->have_pred);
    for (size_t i = 0; i < c->n; i++)
        emit(&o, "h %llu %a %a %a\n", (unsigned long long)c->tokens[i], c->mon[i], c->vloss[i], c->tloss[i]);
    for (int j = 0; j < c->policy.n_rules; j++) {
        const sw_rule_state *s = &c->rs[j];
        emit(&o, "r %a %d %ld %llu %a %d %ld %llu", s->ref, s->have_ref, s->wait, (unsigned long long)s->since,
             s->last_strip, s->have_strip, s->rises, (unsigned long long)s->horizon);
        for (int m = 0; m < 3; m++)
            for (int p = 0; p < 3; p++) emit(&o, " %a", s->theta[m][p]);
        emit(&o, " %d %d %d\n", s->theta_ok[0], s->theta_ok[1], s->theta_ok[2]);
    }
    emit(&o, "end\n");
    if (cap) buf[o.pos < cap ? o.pos : cap - 1] = 0;
    return o.pos;
}

/* A cursor over the blob's whitespace-separated words. */
typedef struct cursor {
    const char *p, *end;
    int bad;
} cursor;

static int word(cursor *c, char *w, size_t cap)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n')) c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\n') {
        if (n + 1 >= cap) {
            c->bad = 1;
            return 0;
        }
        w[n++] = *c->p++;
    }
    w[n] = 0;
    if (!n) c->bad = 1;
    return (int)n;
}

static void expect(cursor *c, const char *lit)
{
    char w[64];
    if (!word(c, w, sizeof w) || strcmp(w, lit)) c->bad = 1;
}

static double rd_double(cursor *c)
{
    char w[64], *e;
    if (!word(c, w, sizeof w)) return 0;
    double v = sw_strtod(w, &e);
    if (*e) c->bad = 1;
    return v;
}

static unsigned long long rd_u64(cursor *c)
{
    char w[64], *e;
    if (!word(c, w, sizeof w) || w[0] < '0' || w[0] > '9') { /* strtoull would skip a blank and negate */
        c->bad = 1;
        return 0;
    }
    errno = 0;
    unsigned long long v = sw_strtoull(w, &e, 10);
    if (*e || errno) c->bad = 1;
    return v;
}

static long rd_long(cursor *c)
{
    char w[64], *e;
    if (!word(c, w, sizeof w)) return 0;
    errno = 0;
    long long v = sw_strtoll(w, &e, 10);
    if (*e || errno || v < LONG_MIN || v > LONG_MAX) c->bad = 1;
    return (long)v;
}

/* A 0/1 flag; anything else makes the blob bad. */
static int rd_flag(cursor *c)
{
    long v = rd_long(c);
    if (v != 0 && v != 1) c->bad = 1;
    return v == 1;
}

/* A count that cannot exceed the number of evaluations seen. */
static long rd_count(cursor *c, size_t n)
{
    long v = rd_long(c);
    if (v < 0 || (unsigned long)v > n) c->bad = 1;
    return v;
}

sw_status sw_controller_restore(const char *blob, size_t len, sw_controller **out, sw_error *err)
{
    *out = NULL;
    static const char magic[] = "stopwise-controller ";
    if (!blob || len < sizeof magic || memcmp(blob, magic, sizeof magic - 1))
        return sw_error_set(err, SW_ERR_FORMAT, "controller state: not a stopwise controller blob (no 'stopwise-controller' header)");
    cursor cur = {blob + sizeof magic - 1, blob + len, 0};
    long version = rd_long(&cur);
    if (cur.bad) return sw_error_set(err, SW_ERR_FORMAT, "controller state: bad version line");
    if (version != 1)
        return sw_error_set(err, SW_ERR_VERSION, "controller state: version %ld, this stopwise reads version 1", version);
    expect(&cur, "policy");
    /* the policy is the rest of its line */
    while (cur.p < cur.end && *cur.p == ' ') cur.p++;
    const char *nl = memchr(cur.p, '\n', (size_t)(cur.end - cur.p));
    if (cur.bad || !nl || nl - cur.p >= 4096) return sw_error_set(err, SW_ERR_FORMAT, "controller state: bad policy line");
    char ptext[4096];
    memcpy(ptext, cur.p, (size_t)(nl - cur.p));
    ptext[nl - cur.p] = 0;
    cur.p = nl + 1;
    sw_policy *pol;
    sw_error perr;
    if (sw_policy_parse(ptext, &pol, &perr))
        return sw_error_set(err, SW_ERR_FORMAT, "controller state: %s", perr.msg);

    expect(&cur, "budget");
    uint64_t budget = rd_u64(&cur);
    sw_controller *c;
    sw_status st = sw_controller_create(pol, budget, &c, err);
    sw_policy_free(pol);
    if (st) return st;
    expect(&cur, "n");
    unsigned long long n = rd_u64(&cur);
    /* every history line takes at least 9 bytes: check before allocating */
    if (cur.bad || n > len / 9) goto bad;
    if ((st = sw_controller_reserve(c, n ? (size_t)n : 1))) {
        sw_controller_free(c);
        return sw_error_set(err, st, "controller state: out of memory");
    }
    /* Every field is checked against what a controller could have saved:
     * feeding a restored controller must never index outside its history. */
    expect(&cur, "stopped");
    c->stopped = rd_flag(&cur);
    expect(&cur, "best");
    c->best_index = (size_t)rd_u64(&cur);
    c->have_best = rd_flag(&cur);
    expect(&cur, "pred");
    c->pred_mean = rd_double(&cur);
    c->pred_sd = rd_double(&cur);
    c->have_pred = rd_flag(&cur);
    if (cur.bad || (c->stopped && n == 0) || (c->have_best && c->best_index >= n)) goto bad;
    /* only an extrapolate rule at the run's horizon predicts, and a fit's
     * mean and sd are finite (fit.c) */
    if (c->have_pred && (!c->horizon || !isfinite(c->pred_mean) || !isfinite(c->pred_sd) || c->pred_sd < 0)) goto bad;
    for (size_t i = 0; i < n && !cur.bad; i++) {
        expect(&cur, "h");
        c->tokens[i] = rd_u64(&cur);
        c->mon[i] = rd_double(&cur);
        c->vloss[i] = rd_double(&cur);
        c->tloss[i] = rd_double(&cur);
        if (i && c->tokens[i] <= c->tokens[i - 1]) cur.bad = 1;
    }
    c->n = (size_t)n;
    /* best so far is a function of the history: recompute it */
    {
        int have = 0;
        size_t bi = 0;
        for (size_t i = 0; i < c->n; i++) {
            if (isfinite(c->mon[i]) && (!have || c->mon[i] > c->mon[bi])) bi = i, have = 1;
            c->best[i] = have ? c->mon[bi] : -INFINITY;
        }
        if (have != c->have_best || (have && bi != c->best_index)) cur.bad = 1;
    }
    for (int j = 0; j < c->policy.n_rules && !cur.bad; j++) {
        sw_rule_state *s = &c->rs[j];
        uint64_t horizon = s->horizon; /* create's, from the policy and budget */
        uint64_t last = c->n ? c->tokens[c->n - 1] : 0;
        expect(&cur, "r");
        s->ref = rd_double(&cur);
        s->have_ref = rd_flag(&cur);
        s->wait = rd_count(&cur, c->n);
        s->since = rd_u64(&cur);
        s->last_strip = rd_double(&cur);
        s->have_strip = rd_flag(&cur);
        s->rises = rd_count(&cur, c->n);
        s->horizon = rd_u64(&cur);
        for (int m = 0; m < 3; m++)
            for (int p = 0; p < 3; p++) s->theta[m][p] = rd_double(&cur);
        for (int m = 0; m < 3; m++) s->theta_ok[m] = rd_flag(&cur);
        /* a reference comes from an evaluation (so none before the first)
         * and only finite values become one (controller.c) */
        if (s->have_ref && (!c->n || !isfinite(s->ref))) cur.bad = 1;
        if (s->have_strip && !c->n) cur.bad = 1;
        if (s->since > last || s->horizon != horizon) cur.bad = 1;
    }
    expect(&cur, "end");
    if (cur.bad) goto bad;
    *out = c;
    return SW_OK;
bad:
    sw_controller_free(c);
    return sw_error_set(err, SW_ERR_FORMAT, "controller state: malformed near byte %zu", (size_t)(cur.p - blob));
}
