/* The candidate grids of each rule family. Every candidate is combined with
 * `diverge` (a run whose loss explodes or turns NaN stops whatever the
 * thresholds), and the grid includes the warm-up (no rule but budget and the
 * NaN check fires before it), since noisy early curves are what fools every
 * rule. Candidates are listed from conservative to aggressive so that ties go
 * to the safer one (tune.h). */
#include "stopwise/tune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const family_names[SW_TUNE_FAMILY_COUNT] = {"patience", "gain", "extrapolate", "gl", "pq", "up"};

const char *sw_tune_family_name(int family)
{
    return family >= 0 && family < SW_TUNE_FAMILY_COUNT ? family_names[family] : "none";
}

int sw_tune_family_find(const char *name)
{
    for (int f = 0; f < SW_TUNE_FAMILY_COUNT; f++)
        if (name && !strcmp(name, family_names[f])) return f;
    return -1;
}

/* Thresholds, conservative first. EM is in points (0-100). */
static const double patience_p[] = {50, 40, 30, 25, 20, 15, 12, 10, 8, 6, 5, 4, 3, 2, 1};
static const double patience_d[] = {0, 0.05, 0.1, 0.2, 0.5, 1};
/* gain: EM points per million tokens, 1-2-5 series over five decades (the
 * scale depends on the task, so the grid spans it rather than guessing). */
static const double gain_g[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
static const double gain_w[] = {10, 5, 3};
static const double extrap_d[] = {0.05, 0.1, 0.2, 0.5, 1, 2};
static const double extrap_z[] = {1.64, 0};
/* gl, pq: Prechelt 1998 used GL 1..5 and PQ 0.5..3; wider both ways. */
static const double gl_a[] = {50, 30, 20, 12, 8, 5, 3, 2, 1, 0.5};
static const double pq_a[] = {5, 3, 2, 1, 0.75, 0.5, 0.25, 0.1};
static const double up_s[] = {8, 6, 5, 4, 3, 2, 1};
static const double up_k[] = {5, 3, 2};

static const double default_warmups[] = {0, 0.05, 0.1, 0.2, 0.3};

#define N(a) (sizeof(a) / sizeof *(a))

typedef struct textlist {
    char **v;
    size_t n, cap;
    int oom;
} textlist;

static void add(textlist *l, const char *rule, uint64_t warmup)
{
    if (l->oom) return;
    if (SW_ARRAY_RESERVE(l->v, l->cap, l->n + 1)) {
        l->oom = 1;
        return;
    }
    char buf[256];
    if (warmup)
        snprintf(buf, sizeof buf, "%s,diverge,warmup=%llu", rule, (unsigned long long)warmup);
    else
        snprintf(buf, sizeof buf, "%s,diverge", rule);
    if (!(l->v[l->n] = strdup(buf))) {
        l->oom = 1;
        return;
    }
    l->n++;
}

void sw_tune_texts_free(char **texts, size_t n)
{
    if (!texts) return;
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
}

sw_status sw_tune_candidates(int family, uint64_t budget, const double *warmups, size_t n_warmups, char ***texts,
                             size_t *n, sw_error *err)
{
    *texts = NULL;
    *n = 0;
    if (family < 0 || family >= SW_TUNE_FAMILY_COUNT)
        return sw_error_set(err, SW_ERR_INVALID, "tune: unknown rule family %d", family);
    if (!warmups || !n_warmups) {
        warmups = default_warmups;
        n_warmups = N(default_warmups);
    }
    textlist l = {0};
    char r[128];
    /* Larger warm-ups are more conservative: outermost loop, largest first. */
    for (size_t wi = n_warmups; wi-- > 0;) {
        if (!(warmups[wi] >= 0 && warmups[wi] < 1)) {
            sw_tune_texts_free(l.v, l.n);
            return sw_error_set(err, SW_ERR_INVALID, "tune: warm-up fraction %g is not in [0, 1)", warmups[wi]);
        }
        uint64_t w = (uint64_t)llround(warmups[wi] * (double)budget);
        switch (family) {
        case 0:
            for (size_t i = 0; i < N(patience_p); i++)
                for (size_t j = 0; j < N(patience_d); j++) {
                    if (patience_d[j] > 0)
                        sw_snprintf(r, sizeof r, "patience=%g:min_delta=%g", patience_p[i], patience_d[j]);
                    else
                        sw_snprintf(r, sizeof r, "patience=%g", patience_p[i]);
                    add(&l, r, w);
                }
            break;
        case 1:
            for (size_t i = 0; i < N(gain_g); i++)
                for (size_t j = 0; j < N(gain_w); j++) {
                    sw_snprintf(r, sizeof r, "gain=%g:window=%g", gain_g[i], gain_w[j]);
                    add(&l, r, w);
                }
            break;
        case 2:
            for (size_t i = 0; i < N(extrap_d); i++)
                for (size_t j = 0; j < N(extrap_z); j++) {
                    sw_snprintf(r, sizeof r, "extrapolate=%g:z=%g", extrap_d[i], extrap_z[j]);
                    add(&l, r, w);
                }
            break;
        case 3:
            for (size_t i = 0; i < N(gl_a); i++) {
                sw_snprintf(r, sizeof r, "gl=%g", gl_a[i]);
                add(&l, r, w);
            }
            break;
        case 4:
            for (size_t i = 0; i < N(pq_a); i++) {
                sw_snprintf(r, sizeof r, "pq=%g", pq_a[i]);
                add(&l, r, w);
            }
            break;
        case 5:
            for (size_t i = 0; i < N(up_s); i++)
                for (size_t j = 0; j < N(up_k); j++) {
                    sw_snprintf(r, sizeof r, "up=%g:k=%g", up_s[i], up_k[j]);
                    add(&l, r, w);
                }
            break;
        }
    }
    if (l.oom) {
        sw_tune_texts_free(l.v, l.n);
        return sw_error_set(err, SW_ERR_NOMEM, "tune: out of memory");
    }
    *texts = l.v;
    *n = l.n;
    return SW_OK;
}
