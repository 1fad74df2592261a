/* The curriculum: an easy-to-hard order and its pacing; see curriculum.h. */
#include "train/curriculum.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STREAM_ORDER = 0xc0de, STREAM_DRAW = 0xc0d1 };

static sw_status parse_key(const char *text, const char *k, const char *v, sw_curriculum_spec *o, sw_error *err)
{
    long long n;
    if (!strcmp(k, "start")) {
        if (sw_parse_double(v, &o->start) || !(o->start > 0 && o->start <= 1))
            return sw_error_set(err, SW_ERR_INVALID, "curriculum '%s': start must be a fraction in (0, 1], got '%s'",
                                text, v);
    } else if (!strcmp(k, "until")) {
        if (sw_parse_double(v, &o->until) || !(o->until > 0 && o->until <= 1))
            return sw_error_set(err, SW_ERR_INVALID,
                                "curriculum '%s': until must be a fraction of the budget in (0, 1], got '%s'", text, v);
    } else if (!strcmp(k, "pace")) {
        if (!strcmp(v, "root")) o->pace = SW_PACING_ROOT;
        else if (!strcmp(v, "linear")) o->pace = SW_PACING_LINEAR;
        else return sw_error_set(err, SW_ERR_INVALID, "curriculum '%s': pace must be root or linear, got '%s'", text, v);
    } else if (o->kind == SW_CURRICULUM_DIFFICULTY && !strcmp(k, "score")) {
        if (!strcmp(v, "loss")) o->score = SW_SUBSAMPLE_LOSS;
        else if (!strcmp(v, "el2n")) o->score = SW_SUBSAMPLE_EL2N;
        else if (!strcmp(v, "forgetting")) o->score = SW_SUBSAMPLE_FORGETTING;
        else
            return sw_error_set(err, SW_ERR_INVALID, "curriculum '%s': score must be loss, el2n or forgetting, got '%s'",
                                text, v);
    } else if (o->kind == SW_CURRICULUM_DIFFICULTY && !strcmp(k, "probe")) {
        if (sw_parse_tokens(v, &o->probe))
            return sw_error_set(err, SW_ERR_INVALID, "curriculum '%s': probe must be a token count, got '%s'", text, v);
    } else if (o->kind == SW_CURRICULUM_DIFFICULTY && !strcmp(k, "points")) {
        if (sw_parse_int(v, 1, 1000, &n))
            return sw_error_set(err, SW_ERR_INVALID, "curriculum '%s': points must be an integer in 1..1000, got '%s'",
                                text, v);
        o->points = (int)n;
    } else {
        return sw_error_set(err, SW_ERR_INVALID, "curriculum '%s': unknown key '%s' (%s)", text, k,
                            o->kind == SW_CURRICULUM_LENGTH ? "length takes start, until, pace"
                                                            : "difficulty takes score, probe, points, start, until, pace");
    }
    return SW_OK;
}

sw_status sw_curriculum_parse(const char *text, sw_curriculum_spec *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    out->start = 0.1;
    out->until = 0.5;
    out->score = SW_SUBSAMPLE_LOSS;
    if (!text || !*text || !strcmp(text, "none")) return SW_OK;
    const char *colon = strchr(text, ':');
    size_t nlen = colon ? (size_t)(colon - text) : strlen(text);
    if (nlen == 6 && !strncmp(text, "length", 6)) out->kind = SW_CURRICULUM_LENGTH;
    else if (nlen == 10 && !strncmp(text, "difficulty", 10)) out->kind = SW_CURRICULUM_DIFFICULTY;
    else
        return sw_error_set(err, SW_ERR_INVALID,
                            "curriculum '%s': expected none, length[:start=..,until=..,pace=root|linear] or "
                            "difficulty[:score=loss|el2n|forgetting,probe=..,...]",
                            text);
    char buf[256];
    if (colon && strlen(colon + 1) >= sizeof buf)
        return sw_error_set(err, SW_ERR_INVALID, "curriculum '%.40s...': too long", text);
    snprintf(buf, sizeof buf, "%s", colon ? colon + 1 : "");
    int points_given = 0;
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return sw_error_set(err, SW_ERR_INVALID, "curriculum '%s': expected key=value, got '%s'", text, kv);
        *eq = 0;
        points_given |= !strcmp(kv, "points");
        sw_status st = parse_key(text, kv, eq + 1, out, err);
        if (st) return st;
    }
    if (!points_given) out->points = out->score == SW_SUBSAMPLE_FORGETTING ? 10 : 1;
    if (out->kind == SW_CURRICULUM_DIFFICULTY && out->score == SW_SUBSAMPLE_FORGETTING && out->points < 2)
        return sw_error_set(err, SW_ERR_INVALID, "curriculum '%s': forgetting counts need points >= 2", text);
    return SW_OK;
}

char *sw_curriculum_format(const sw_curriculum_spec *s, char *buf, size_t len)
{
    char a[32], b[32], p[24];
    sw_format_double(s->start, a, sizeof a);
    sw_format_double(s->until, b, sizeof b);
    const char *pace = s->pace == SW_PACING_LINEAR ? "linear" : "root";
    if (s->kind == SW_CURRICULUM_LENGTH) snprintf(buf, len, "length:start=%s,until=%s,pace=%s", a, b, pace);
    else if (s->kind == SW_CURRICULUM_DIFFICULTY)
        snprintf(buf, len, "difficulty:score=%s,probe=%s,points=%d,start=%s,until=%s,pace=%s",
                 s->score == SW_SUBSAMPLE_EL2N ? "el2n" : s->score == SW_SUBSAMPLE_FORGETTING ? "forgetting" : "loss",
                 sw_format_tokens_exact(s->probe, 3, p, sizeof p), s->points, a, b, pace);
    else snprintf(buf, len, "none");
    return buf;
}

double sw_curriculum_competence(const sw_curriculum_spec *s, double x)
{
    if (!(x > 0)) x = 0;
    if (x > 1) x = 1;
    double c0 = s->start;
    double c = s->pace == SW_PACING_LINEAR ? c0 + (1 - c0) * x : sqrt(c0 * c0 + (1 - c0 * c0) * x);
    if (c < c0) c = c0; /* a tiny c0 squares to 0: never start below it */
    return c > 1 ? 1 : c;
}

typedef struct { double key; uint64_t tie; uint32_t item; } keyed;

static int keyed_cmp(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    if (a->tie != b->tie) return a->tie < b->tie ? -1 : 1;
    return a->item < b->item ? -1 : a->item > b->item;
}

sw_status sw_curriculum_init(sw_curriculum *c, const sw_curriculum_spec *spec, const double *key, size_t n_items,
                             uint64_t budget, uint64_t seed, const uint64_t *clock, sw_error *err)
{
    memset(c, 0, sizeof *c);
    keyed *k = malloc(sizeof *k * (n_items ? n_items : 1));
    c->sorted = malloc(sizeof(uint32_t) * (n_items ? n_items : 1));
    if (!k || !c->sorted) {
        free(k);
        free(c->sorted);
        c->sorted = NULL;
        return sw_error_set(err, SW_ERR_NOMEM, "curriculum: out of memory for %zu items", n_items);
    }
    for (size_t i = 0; i < n_items; i++)
        k[i] = (keyed){isnan(key[i]) ? INFINITY : key[i], sw_hash3(seed, STREAM_ORDER, i), (uint32_t)i};
    qsort(k, n_items, sizeof *k, keyed_cmp);
    for (size_t i = 0; i < n_items; i++) c->sorted[i] = k[i].item;
    free(k);
    c->spec = *spec;
    c->n = n_items;
    c->ramp = (uint64_t)(spec->until * (double)budget);
    c->seed = seed;
    c->clock = clock;
    return SW_OK;
}

void sw_curriculum_free(sw_curriculum *c)
{
    if (!c) return;
    free(c->sorted);
    memset(c, 0, sizeof *c);
}

int sw_curriculum_draw(const sw_curriculum *c, uint32_t *items, int B, uint64_t *round)
{
    uint64_t t = *c->clock;
    if (!c->n || t >= c->ramp) return 0;
    double comp = sw_curriculum_competence(&c->spec, (double)t / (double)c->ramp);
    if (comp >= 1) return 0;
    size_t m = (size_t)ceil(comp * (double)c->n);
    if (m < (size_t)B) m = (size_t)B;
    if (m > c->n) m = c->n;
    size_t want = (size_t)B < m ? (size_t)B : m;
    /* Floyd's sampling of `want` distinct positions of [0, m): uniform over
     * subsets, B draws, no table of size m */
    sw_rng r;
    sw_rng_seed(&r, sw_hash3(c->seed, STREAM_DRAW, t));
    size_t k = 0;
    for (size_t j = m - want; j < m; j++) {
        uint32_t pick = (uint32_t)sw_rng_below(&r, j + 1);
        for (size_t q = 0; q < k; q++)
            if (items[q] == pick) {
                pick = (uint32_t)j;
                break;
            }
        items[k++] = pick;
    }
    for (size_t q = 0; q < k; q++) items[q] = c->sorted[items[q]];
    *round = 1ull << 63 | t;
    return (int)k;
}
