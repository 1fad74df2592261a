/* Which training examples a run keeps (--subsample): the spec's text form,
 * the selection (uniform, stratified, by score), and the restriction of the
 * training split to it. See data.h and docs/LEVERS.md.
 *
 * Why every order here is by a hash of (seed, example) and never by a
 * generator drawn in sequence: the selection is then a pure function of the
 * seed, the data and the scores, the same whatever calls came before, and
 * ties between equal scores fall the same way on every machine. */
#include "data/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the spec -------------------------------------------------------------------- */

static const char *const kind_names[] = {"none", "uniform", "stratified", "loss", "el2n", "forgetting"};
static const char *const take_names[] = {"hard", "easy", "mix"};

int sw_subsample_needs_scores(const sw_subsample_spec *s)
{
    return s->kind == SW_SUBSAMPLE_LOSS || s->kind == SW_SUBSAMPLE_EL2N || s->kind == SW_SUBSAMPLE_FORGETTING;
}

static sw_status parse_keep(const char *text, const char *v, double *keep, sw_error *err)
{
    if (sw_parse_double(v, keep) || !(*keep > 0 && *keep <= 1))
        return sw_error_set(err, SW_ERR_INVALID, "subsample '%s': keep must be a fraction in (0, 1], got %s", text, v);
    return SW_OK;
}

/* One key=value of a score kind. */
static sw_status parse_score_key(const char *text, const char *k, const char *v, sw_subsample_spec *o, sw_error *err)
{
    long long n;
    if (!strcmp(k, "take")) {
        for (int t = 0; t < 3; t++)
            if (!strcmp(v, take_names[t])) {
                o->take = (sw_subsample_take)t;
                return SW_OK;
            }
        return sw_error_set(err, SW_ERR_INVALID, "subsample '%s': take must be hard, easy or mix, got '%s'", text, v);
    }
    if (!strcmp(k, "hard")) {
        if (sw_parse_double(v, &o->hard) || !(o->hard >= 0 && o->hard <= 1))
            return sw_error_set(err, SW_ERR_INVALID, "subsample '%s': hard must be a share in [0, 1], got '%s'", text, v);
        return SW_OK;
    }
    if (!strcmp(k, "balance")) {
        if (sw_parse_int(v, 0, 1, &n))
            return sw_error_set(err, SW_ERR_INVALID, "subsample '%s': balance must be 0 or 1, got '%s'", text, v);
        o->balance = (int)n;
        return SW_OK;
    }
    if (!strcmp(k, "probe")) {
        if (sw_parse_tokens(v, &o->probe))
            return sw_error_set(err, SW_ERR_INVALID, "subsample '%s': probe must be a token count (e.g. 100k), got '%s'",
                                text, v);
        return SW_OK;
    }
    if (!strcmp(k, "points")) {
        if (sw_parse_int(v, 1, 1000, &n))
            return sw_error_set(err, SW_ERR_INVALID, "subsample '%s': points must be an integer in 1..1000, got '%s'",
                                text, v);
        o->points = (int)n;
        return SW_OK;
    }
    return sw_error_set(err, SW_ERR_INVALID,
                        "subsample '%s': unknown key '%s' (score kinds take keep, take, hard, balance, probe, points)",
                        text, k);
}

sw_status sw_subsample_parse(const char *text, sw_subsample_spec *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    out->hard = 0.5;
    if (!text || !*text || !strcmp(text, "none")) return SW_OK;
    /* a bare number is a uniform sample */
    if ((text[0] >= '0' && text[0] <= '9') || text[0] == '.' || text[0] == '-' || text[0] == '+') {
        out->kind = SW_SUBSAMPLE_UNIFORM;
        return parse_keep(text, text, &out->keep, err);
    }
    const char *colon = strchr(text, ':');
    size_t nlen = colon ? (size_t)(colon - text) : strlen(text);
    for (int k = 1; k < 6; k++)
        if (strlen(kind_names[k]) == nlen && !strncmp(text, kind_names[k], nlen)) out->kind = (sw_subsample_kind)k;
    if (out->kind == SW_SUBSAMPLE_NONE)
        return sw_error_set(err, SW_ERR_INVALID,
                            "subsample '%s': expected a fraction F, uniform:keep=F, stratified:keep=F or "
                            "loss|el2n|forgetting:keep=F[,take=hard|easy|mix,...]",
                            text);
    out->points = out->kind == SW_SUBSAMPLE_FORGETTING ? 10 : 1;
    char buf[512];
    if (colon && strlen(colon + 1) >= sizeof buf)
        return sw_error_set(err, SW_ERR_INVALID, "subsample '%.40s...': too long", text);
    snprintf(buf, sizeof buf, "%s", colon ? colon + 1 : "");
    int have_keep = 0;
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return sw_error_set(err, SW_ERR_INVALID, "subsample '%s': expected key=value, got '%s'", text, kv);
        *eq = 0;
        sw_status st;
        if (!strcmp(kv, "keep")) {
            if ((st = parse_keep(text, eq + 1, &out->keep, err))) return st;
            have_keep = 1;
        } else if (sw_subsample_needs_scores(out)) {
            if ((st = parse_score_key(text, kv, eq + 1, out, err))) return st;
        } else {
            return sw_error_set(err, SW_ERR_INVALID, "subsample '%s': unknown key '%s' (%s takes keep)", text, kv,
                                kind_names[out->kind]);
        }
    }
    if (!have_keep)
        return sw_error_set(err, SW_ERR_INVALID, "subsample '%s': keep=F is required (the fraction kept, in (0, 1])",
                            text);
    if (out->kind == SW_SUBSAMPLE_FORGETTING && out->points < 2)
        return sw_error_set(err, SW_ERR_INVALID, "subsample '%s': forgetting counts need points >= 2", text);
    return SW_OK;
}

char *sw_subsample_format(const sw_subsample_spec *s, char *buf, size_t len)
{
    char keep[32], hard[32], probe[24];
    if ((unsigned)s->kind >= 6 || s->kind == SW_SUBSAMPLE_NONE) {
        snprintf(buf, len, "none");
        return buf;
    }
    sw_format_double(s->keep, keep, sizeof keep);
    if (!sw_subsample_needs_scores(s)) {
        snprintf(buf, len, "%s:keep=%s", kind_names[s->kind], keep);
        return buf;
    }
    sw_format_double(s->hard, hard, sizeof hard);
    sw_format_tokens_exact(s->probe, 3, probe, sizeof probe);
    snprintf(buf, len, "%s:keep=%s,take=%s,hard=%s,balance=%d,probe=%s,points=%d", kind_names[s->kind], keep,
             take_names[s->take], hard, s->balance, probe, s->points);
    return buf;
}

size_t sw_subsample_count(const sw_subsample_spec *s, size_t n)
{
    if (s->kind == SW_SUBSAMPLE_NONE || n == 0) return n;
    size_t k = (size_t)floor(s->keep * (double)n + 0.5);
    if (k < 1) k = 1;
    return k > n ? n : k;
}

/* ---- the training split ----------------------------------------------------------- */

int sw_dataset_image_shape(const sw_dataset *ds, int *height, int *width)
{
    int ok = ds && ds->kind == SW_TASK_CLASSIFY && ds->img_h > 0 && ds->img_w > 0;
    if (height) *height = ok ? ds->img_h : 0;
    if (width) *width = ok ? ds->img_w : 0;
    return ok;
}

int sw_dataset_train_stratum(const sw_dataset *ds, size_t i)
{
    if (ds->kind == SW_TASK_CLASSIFY) return sw_dataset_label(ds, SW_SPLIT_TRAIN, i);
    int len = 0;
    sw_dataset_input(ds, SW_SPLIT_TRAIN, i, &len);
    return len;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

sw_status sw_dataset_keep_train(sw_dataset *ds, const uint32_t *keep, size_t n, sw_error *err)
{
    size_t cnt = ds->cnt[SW_SPLIT_TRAIN];
    if (n == 0) return sw_error_set(err, SW_ERR_INVALID, "%s: a selection must keep at least one example", ds->name);
    uint8_t *seen = calloc(cnt ? cnt : 1, 1);
    uint32_t *idx = malloc(sizeof(uint32_t) * n);
    if (!seen || !idx) {
        free(seen);
        free(idx);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory selecting %zu examples", n);
    }
    for (size_t k = 0; k < n; k++) {
        if (keep[k] >= cnt || seen[keep[k]]) {
            sw_status st = sw_error_set(err, SW_ERR_INVALID, "%s: selection entry %zu: training position %u is %s",
                                        ds->name, k, keep[k], keep[k] >= cnt ? "out of range" : "repeated");
            free(seen);
            free(idx);
            return st;
        }
        seen[keep[k]] = 1;
        idx[k] = ds->idx[SW_SPLIT_TRAIN][keep[k]];
    }
    /* the split's indices are in source order; keep them so */
    qsort(idx, n, sizeof *idx, u32_cmp);
    free(ds->idx[SW_SPLIT_TRAIN]);
    ds->idx[SW_SPLIT_TRAIN] = idx;
    ds->cnt[SW_SPLIT_TRAIN] = n;
    free(seen);
    return SW_OK;
}

uint64_t sw_dataset_train_fingerprint(const sw_dataset *ds)
{
    uint64_t h = sw_hash3(0, SW_STREAM_SELECT, ds->cnt[SW_SPLIT_TRAIN]);
    for (size_t k = 0; k < ds->cnt[SW_SPLIT_TRAIN]; k++) {
        uint32_t i = ds->idx[SW_SPLIT_TRAIN][k];
        uint64_t id;
        if (ds->kind == SW_TASK_SEQUENCE) id = sw_fnv1a(ds->ex[i].input, strlen(ds->ex[i].input));
        else id = (uint64_t)ds->src[i] | (uint64_t)(ds->src_test ? ds->src_test[i] : 0) << 40;
        h = sw_hash3(h, SW_STREAM_SELECT, id);
    }
    return h;
}

/* ---- the selection ------------------------------------------------------------------ */

typedef struct {
    int stratum;
    double score; /* higher = harder; 0 for the unscored kinds */
    uint64_t tie; /* hash of (seed, example): the seeded order among equals */
    uint32_t pos; /* training position */
} ranked;

/* By stratum, then hardest first, then the seeded order. */
static int ranked_cmp(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->stratum != b->stratum) return a->stratum < b->stratum ? -1 : 1;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->tie != b->tie) return a->tie < b->tie ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

typedef struct { size_t start, size, quota; double frac; int id; } stratum_t;

/* Largest remainder first, then the lower stratum id: a total order. */
static int frac_cmp(const void *pa, const void *pb)
{
    const stratum_t *a = pa, *b = pb;
    if (a->frac != b->frac) return a->frac > b->frac ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int start_cmp(const void *pa, const void *pb)
{
    const stratum_t *a = pa, *b = pb;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* Takes q of a stratum's ranked run r[0..size): the hard end, the easy end, or
 * a mixture; the seeded order stands in for the score in unscored kinds. */
static size_t take_from(const ranked *r, size_t size, size_t q, const sw_subsample_spec *s, uint32_t *out)
{
    size_t from_hard = q;
    if (sw_subsample_needs_scores(s)) {
        if (s->take == SW_SUBSAMPLE_EASY) from_hard = 0;
        else if (s->take == SW_SUBSAMPLE_MIX) from_hard = (size_t)floor(s->hard * (double)q + 0.5);
    }
    if (from_hard > q) from_hard = q;
    size_t k = 0;
    for (size_t j = 0; j < from_hard; j++) out[k++] = r[j].pos;
    for (size_t j = 0; j < q - from_hard; j++) out[k++] = r[size - 1 - j].pos;
    return k;
}

sw_status sw_subsample_select(const sw_dataset *ds, const sw_subsample_spec *s, uint64_t seed, const double *scores,
                              uint32_t *keep, size_t *n_keep, sw_error *err)
{
    size_t n = ds->cnt[SW_SPLIT_TRAIN];
    *n_keep = 0;
    if (n == 0) return sw_error_set(err, SW_ERR_INVALID, "%s: the training split is empty", ds->name);
    if (s->kind == SW_SUBSAMPLE_NONE) {
        for (size_t i = 0; i < n; i++) keep[i] = (uint32_t)i;
        *n_keep = n;
        return SW_OK;
    }
    int scored = sw_subsample_needs_scores(s);
    if (scored && !scores)
        return sw_error_set(err, SW_ERR_INVALID, "subsample: %s needs per-example scores from a probe run",
                            s->kind == SW_SUBSAMPLE_LOSS ? "loss" : s->kind == SW_SUBSAMPLE_EL2N ? "el2n" : "forgetting");
    int strata = s->kind == SW_SUBSAMPLE_STRATIFIED || (scored && s->balance);
    ranked *r = malloc(sizeof *r * n);
    stratum_t *st = malloc(sizeof *st * n);
    if (!r || !st) {
        free(r);
        free(st);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory selecting from %zu examples", n);
    }
    for (size_t i = 0; i < n; i++) {
        /* the tie hash keys on the example's identity in the data (its index
         * in the source), not its position, so it survives earlier selections */
        r[i] = (ranked){.stratum = strata ? sw_dataset_train_stratum(ds, i) : 0,
                        .score = scored ? scores[i] : 0,
                        .tie = sw_hash3(seed, SW_STREAM_SELECT, ds->idx[SW_SPLIT_TRAIN][i]),
                        .pos = (uint32_t)i};
        if (scored && !isfinite(r[i].score)) r[i].score = HUGE_VAL; /* a diverging example is as hard as it gets */
    }
    qsort(r, n, sizeof *r, ranked_cmp);
    /* the strata, as runs of the sorted array */
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || r[i].stratum != r[i - 1].stratum) st[ns++] = (stratum_t){.start = i, .id = r[i].stratum};
        st[ns - 1].size++;
    }
    /* quotas: floor(keep x size), then one more to the largest remainders
     * until the total is round(keep x n) */
    size_t total = sw_subsample_count(s, n), given = 0;
    for (size_t k = 0; k < ns; k++) {
        double q = s->keep * (double)st[k].size;
        st[k].quota = (size_t)floor(q);
        st[k].frac = q - floor(q);
        given += st[k].quota;
    }
    if (given < total) {
        qsort(st, ns, sizeof *st, frac_cmp);
        for (size_t k = 0; k < ns && given < total; k++)
            if (st[k].quota < st[k].size) {
                st[k].quota++;
                given++;
            }
        qsort(st, ns, sizeof *st, start_cmp);
    }
    size_t m = 0;
    for (size_t k = 0; k < ns; k++) m += take_from(r + st[k].start, st[k].size, st[k].quota, s, keep + m);
    qsort(keep, m, sizeof *keep, u32_cmp);
    *n_keep = m;
    free(r);
    free(st);
    return SW_OK;
}
