/* Sequence datasets: raw (input, target) pairs grouped by input, then split,
 * subsampled, given a vocabulary built from the training split, and encoded. */
#include "data/internal.h"

#include <stdlib.h>
#include <string.h>

sw_status sw_seq_raw_add(sw_seq_raw *raw, const char *input, size_t in_len, const char *target, size_t tgt_len,
                         uint32_t line, sw_error *err)
{
    /* normalise the target: valid UTF-8 (a stray byte read as its Latin-1
     * character, as in inputs, so that every symbol survives the vocabulary's
     * JSON), spaces trimmed, runs collapsed to one */
    char small[512];
    char *t = 2 * tgt_len + 1 <= sizeof small ? small : malloc(2 * tgt_len + 1);
    if (!t) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    size_t k = 0, n = sw_utf8_clean(target, tgt_len, t);
    for (size_t i = 0; i < n; i++) {
        if (t[i] == ' ' && (k == 0 || t[k - 1] == ' ')) continue;
        t[k++] = t[i];
    }
    while (k && t[k - 1] == ' ') k--;
    t[k] = 0;

    sw_status st = SW_OK;
    int32_t gi = sw_strmap_get(&raw->by_input, input, in_len);
    if (gi < 0) {
        if (SW_ARRAY_RESERVE(raw->g, raw->cap, raw->n + 1)) goto nomem;
        if (raw->n >= INT32_MAX / 2) goto nomem;
        char *key = sw_arena_strndup(raw->arena, input, in_len);
        if (!key || sw_strmap_put(&raw->by_input, key, in_len, (int32_t)raw->n) < 0) goto nomem;
        gi = (int32_t)raw->n++;
        raw->g[gi] = (sw_seq_group){key, -1, -1, 0, line};
    }
    sw_seq_group *g = &raw->g[gi];
    for (int32_t r = g->first_ref; r >= 0; r = raw->r[r].next)
        if (strcmp(raw->r[r].text, t) == 0) goto done; /* the same answer twice: one reference */
    if (SW_ARRAY_RESERVE(raw->r, raw->capr, raw->nr + 1)) goto nomem;
    char *text = sw_arena_strndup(raw->arena, t, k);
    if (!text) goto nomem;
    int32_t ri = (int32_t)raw->nr++;
    raw->r[ri] = (sw_seq_ref){text, -1};
    if (g->last_ref >= 0) raw->r[g->last_ref].next = ri;
    else g->first_ref = ri;
    g->last_ref = ri;
    g->n_refs++;
    goto done;
nomem:
    st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
done:
    if (t != small) free(t);
    return st;
}

void sw_seq_raw_free(sw_seq_raw *raw)
{
    sw_strmap_free(&raw->by_input);
    free(raw->g);
    free(raw->r);
    memset(raw, 0, sizeof *raw);
}

/* A growable int32 vector for the token pool. */
typedef struct { int32_t *v; size_t n, cap; } ivec;

static int32_t *ivec_reserve(ivec *a, size_t more)
{
    if (!more) more = 1; /* an empty text still needs a valid pointer */
    if (more > SIZE_MAX - a->n || SW_ARRAY_RESERVE(a->v, a->cap, a->n + more)) return NULL;
    return a->v + a->n;
}

sw_status sw_seq_finish(sw_dataset *ds, sw_seq_raw *raw, const sw_data_options *opt, const char *what, sw_error *err)
{
    if (raw->n == 0) return sw_error_set(err, SW_ERR_INVALID, "%s: empty dataset: no examples", what);
    if (raw->n > UINT32_MAX / 2) return sw_error_set(err, SW_ERR_INVALID, "%s: too many examples", what);
    ds->kind = SW_TASK_SEQUENCE;

    int spaced = 0;
    for (size_t r = 0; r < raw->nr && !spaced; r++) spaced = strchr(raw->r[r].text, ' ') != NULL;
    if (opt->vocab) spaced = sw_vocab_target_spaced(opt->vocab);

    uint64_t *keys = malloc(raw->n * sizeof *keys);
    if (!keys) return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", what);
    for (size_t i = 0; i < raw->n; i++) keys[i] = sw_fnv1a(raw->g[i].input, strlen(raw->g[i].input));
    double vf = opt->val_frac < 0 ? 0.05 : opt->val_frac;
    double tf = opt->test_frac < 0 ? 0.05 : opt->test_frac;
    sw_status st = sw_split_assign(ds, keys, raw->n, NULL, vf, tf, opt->max_examples, err);
    free(keys);
    if (st) return st;

    /* vocabulary from the training split only */
    if (opt->vocab) {
        ds->vocab = sw_vocab_copy(opt->vocab);
    } else {
        size_t ntr = ds->cnt[SW_SPLIT_TRAIN], nref = 0;
        for (size_t k = 0; k < ntr; k++) nref += (size_t)raw->g[ds->idx[SW_SPLIT_TRAIN][k]].n_refs;
        const char **ins = malloc((ntr + 1) * sizeof *ins), **tgs = malloc((nref + 1) * sizeof *tgs);
        if (ins && tgs) {
            size_t t = 0;
            for (size_t k = 0; k < ntr; k++) {
                const sw_seq_group *g = &raw->g[ds->idx[SW_SPLIT_TRAIN][k]];
                ins[k] = g->input;
                for (int32_t r = g->first_ref; r >= 0; r = raw->r[r].next) tgs[t++] = raw->r[r].text;
            }
            ds->vocab = sw_vocab_build(ins, ntr, tgs, nref, spaced);
        }
        free(ins);
        free(tgs);
    }
    if (!ds->vocab) return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", what);

    /* encode the kept examples, renumbered 0.. in split order */
    size_t kept = ds->cnt[0] + ds->cnt[1] + ds->cnt[2], nrefs = 0;
    for (int s = 0; s < SW_SPLIT_COUNT; s++)
        for (size_t k = 0; k < ds->cnt[s]; k++) nrefs += (size_t)raw->g[ds->idx[s][k]].n_refs;
    ds->ex = calloc(kept ? kept : 1, sizeof *ds->ex);
    ds->refs = calloc(nrefs ? nrefs : 1, sizeof *ds->refs);
    if (!ds->ex || !ds->refs) return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", what);
    ivec tok = {0};
    size_t e = 0, rr = 0;
    for (int s = 0; s < SW_SPLIT_COUNT; s++) {
        for (size_t k = 0; k < ds->cnt[s]; k++) {
            const sw_seq_group *g = &raw->g[ds->idx[s][k]];
            sw_seq_example *x = &ds->ex[e];
            int unk = 0;
            x->input = g->input;
            int need = sw_vocab_encode_input(ds->vocab, g->input, NULL, 0, NULL);
            int32_t *p = ivec_reserve(&tok, (size_t)need);
            if (!p) goto nomem;
            x->in_off = (int32_t)tok.n;
            x->in_len = sw_vocab_encode_input(ds->vocab, g->input, p, need, &unk);
            tok.n += (size_t)need;
            if (x->in_len > ds->max_in) ds->max_in = x->in_len;
            x->ref0 = (int32_t)rr;
            x->n_refs = g->n_refs;
            for (int32_t r = g->first_ref; r >= 0; r = raw->r[r].next) {
                sw_seq_target *t = &ds->refs[rr++];
                t->text = raw->r[r].text;
                need = sw_vocab_encode_target(ds->vocab, t->text, NULL, 0, NULL);
                if (!(p = ivec_reserve(&tok, (size_t)need))) goto nomem;
                t->off = (int32_t)tok.n;
                t->len = sw_vocab_encode_target(ds->vocab, t->text, p, need, &unk);
                tok.n += (size_t)need;
                if (t->len > ds->max_ref) ds->max_ref = t->len;
            }
            ds->unk[s] += (size_t)unk;
            ds->idx[s][k] = (uint32_t)e++;
            if (tok.n > INT32_MAX / 2) {
                free(tok.v);
                return sw_error_set(err, SW_ERR_INVALID, "%s: too many tokens", what);
            }
        }
    }
    ds->n_ex = kept;
    ds->tok = tok.v;
    return SW_OK;
nomem:
    free(tok.v);
    return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", what);
}
