/* Structured pruning's units (prune_units.h): finding them in a model,
 * scoring them, one-shot pruning, and the compaction that turns a model with
 * dead units into the smaller dense model computing the same function.
 *
 * Why compaction is exact: a dead unit's output is exactly zero (ReLU(0) =
 * GELU(0) = 0 when its input row and bias are zero; a head whose value rows
 * and biases are zero averages zero vectors), or reaches nothing (its output
 * column is zero), so dropping it removes only terms that are exactly 0 from
 * the sums of the next layer. Only the order of the remaining float additions
 * may change (the GEMM blocks differently), a few ulps. */
#include "nn/prune_units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find_tensor(const sw_model *m, const char *name, sw_tensor_info *t)
{
    for (int i = 0; i < sw_model_num_tensors(m); i++) {
        sw_model_tensor(m, i, t);
        if (!strcmp(t->name, name)) return 1;
    }
    return 0;
}

static sw_unit_block block(size_t offset, size_t ustep, size_t count, size_t stride, size_t len, sw_unit_role role)
{
    return (sw_unit_block){
        .offset = offset, .ustep = ustep, .count = count, .stride = stride, .len = len, .role = role};
}

/* mlp hidden layer i: fc.i.w (U, in), fc.i.b (U), fc.(i+1).w (out, U) */
static int mlp_layer(const sw_model *m, int i, sw_unit_layer *l)
{
    sw_tensor_info w, b, w2;
    char nw[32], nb[32], nw2[32];
    snprintf(nw, sizeof nw, "fc.%d.w", i);
    snprintf(nb, sizeof nb, "fc.%d.b", i);
    snprintf(nw2, sizeof nw2, "fc.%d.w", i + 1);
    if (!find_tensor(m, nw, &w) || !find_tensor(m, nb, &b) || !find_tensor(m, nw2, &w2)) return 0;
    size_t U = (size_t)w.shape[0], in = (size_t)w.shape[1], out = (size_t)w2.shape[0];
    l->units = (int)U;
    l->n_blocks = 3;
    l->blocks[0] = block(w.offset, in, 1, 0, in, SW_UNIT_IN);
    l->blocks[1] = block(b.offset, 1, 1, 0, 1, SW_UNIT_IN);
    l->blocks[2] = block(w2.offset, 1, out, U, 1, SW_UNIT_OUT);
    return 1;
}

/* gpt block l's feed-forward: mlp.fc.w (F, C), mlp.fc.b (F), mlp.proj.w (C, F) */
static int ff_layer(const sw_model *m, int layer, sw_unit_layer *l)
{
    sw_tensor_info w, b, p;
    char nw[64], nb[64], np[64];
    snprintf(nw, sizeof nw, "h.%d.mlp.fc.w", layer);
    snprintf(nb, sizeof nb, "h.%d.mlp.fc.b", layer);
    snprintf(np, sizeof np, "h.%d.mlp.proj.w", layer);
    if (!find_tensor(m, nw, &w) || !find_tensor(m, nb, &b) || !find_tensor(m, np, &p)) return 0;
    size_t F = (size_t)w.shape[0], C = (size_t)w.shape[1];
    l->units = (int)F;
    l->n_blocks = 3;
    l->blocks[0] = block(w.offset, C, 1, 0, C, SW_UNIT_IN);
    l->blocks[1] = block(b.offset, 1, 1, 0, 1, SW_UNIT_IN);
    l->blocks[2] = block(p.offset, 1, C, F, 1, SW_UNIT_OUT);
    return 1;
}

/* gpt block l's heads: attn.qkv.w (3A, C) = q | k | v row blocks, attn.qkv.b
 * (3A), attn.proj.w (C, A) */
static int head_layer(const sw_model *m, int layer, int NH, sw_unit_layer *l)
{
    sw_tensor_info w, b, p;
    char nw[64], nb[64], np[64];
    snprintf(nw, sizeof nw, "h.%d.attn.qkv.w", layer);
    snprintf(nb, sizeof nb, "h.%d.attn.qkv.b", layer);
    snprintf(np, sizeof np, "h.%d.attn.proj.w", layer);
    if (!find_tensor(m, nw, &w) || !find_tensor(m, nb, &b) || !find_tensor(m, np, &p)) return 0;
    size_t A = (size_t)w.shape[0] / 3, C = (size_t)w.shape[1], hs = A / (size_t)NH;
    l->units = NH;
    l->n_blocks = 7;
    for (int j = 0; j < 3; j++) { /* q, k, v */
        sw_unit_role role = j == 2 ? SW_UNIT_IN : SW_UNIT_ONLY_MASKED;
        l->blocks[2 * j] = block(w.offset + (size_t)j * A * C, hs * C, 1, 0, hs * C, role);
        l->blocks[2 * j + 1] = block(b.offset + (size_t)j * A, hs, 1, 0, hs, role);
    }
    l->blocks[6] = block(p.offset, hs, C, A, hs, SW_UNIT_OUT);
    return 1;
}

sw_status sw_unit_layers(const sw_model *m, sw_prune_kind kind, sw_unit_layer **layers, int *n)
{
    *layers = NULL;
    *n = 0;
    const sw_model_spec *s = sw_model_get_spec(m);
    int count = s->kind == SW_MODEL_MLP ? (kind == SW_PRUNE_NEURONS ? s->n_hidden : 0) : s->layers;
    if (kind != SW_PRUNE_NEURONS && kind != SW_PRUNE_HEADS) return SW_ERR_INVALID;
    if (count == 0) return SW_OK;
    sw_unit_layer *ls = calloc((size_t)count, sizeof *ls);
    if (!ls) return SW_ERR_NOMEM;
    for (int i = 0; i < count; i++) {
        int ok = s->kind == SW_MODEL_MLP ? mlp_layer(m, i, &ls[i])
                 : kind == SW_PRUNE_NEURONS ? ff_layer(m, i, &ls[i])
                                            : head_layer(m, i, s->heads, &ls[i]);
        if (!ok) { /* the model's own tensor table lacks a name: a bug, not bad input */
            free(ls);
            return SW_ERR_STATE;
        }
    }
    *layers = ls;
    *n = count;
    return SW_OK;
}

/* Sum of squares of unit u's entries with the given role; *nonzero gets
 * whether any is nonzero. */
static double role_sq(const sw_unit_layer *l, const float *p, int u, sw_unit_role role, int *nonzero)
{
    double s = 0;
    int nz = 0;
    for (int k = 0; k < l->n_blocks; k++) {
        const sw_unit_block *b = &l->blocks[k];
        if (b->role != role) continue;
        for (size_t c = 0; c < b->count; c++) {
            const float *x = p + b->offset + (size_t)u * b->ustep + c * b->stride;
            for (size_t i = 0; i < b->len; i++) {
                s += (double)x[i] * x[i];
                nz |= x[i] != 0.0f;
            }
        }
    }
    if (nonzero) *nonzero = nz;
    return s;
}

double sw_unit_score(const sw_unit_layer *l, const float *params, int u)
{
    return sqrt(role_sq(l, params, u, SW_UNIT_IN, NULL)) * sqrt(role_sq(l, params, u, SW_UNIT_OUT, NULL));
}

int sw_unit_is_dead(const sw_unit_layer *l, const float *params, int u)
{
    int in_nz, out_nz;
    role_sq(l, params, u, SW_UNIT_IN, &in_nz);
    role_sq(l, params, u, SW_UNIT_OUT, &out_nz);
    return !in_nz || !out_nz;
}

void sw_unit_zero(const sw_unit_layer *l, int u, float *buf)
{
    for (int k = 0; k < l->n_blocks; k++) {
        const sw_unit_block *b = &l->blocks[k];
        for (size_t c = 0; c < b->count; c++)
            memset(buf + b->offset + (size_t)u * b->ustep + c * b->stride, 0, b->len * sizeof(float));
    }
}

void sw_unit_unmask(const sw_unit_layer *l, int u, uint8_t *mask)
{
    for (int k = 0; k < l->n_blocks; k++) {
        const sw_unit_block *b = &l->blocks[k];
        for (size_t c = 0; c < b->count; c++)
            memset(mask + b->offset + (size_t)u * b->ustep + c * b->stride, 0, b->len);
    }
}

void sw_unit_span(const sw_unit_layer *l, size_t *lo, size_t *hi)
{
    size_t a = SIZE_MAX, z = 0;
    for (int k = 0; k < l->n_blocks; k++) {
        const sw_unit_block *b = &l->blocks[k];
        size_t end = b->offset + (size_t)(l->units - 1) * b->ustep + (b->count - 1) * b->stride + b->len;
        if (b->offset < a) a = b->offset;
        if (end > z) z = end;
    }
    *lo = a;
    *hi = z;
}

typedef struct { double score; int u; } scored;

static int by_score(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    return (x->u > y->u) - (x->u < y->u);
}

sw_status sw_unit_lowest(const sw_unit_layer *l, const float *params, const uint8_t *alive, int k, int *out)
{
    scored *s = malloc(sizeof *s * (size_t)(l->units > 0 ? l->units : 1));
    if (!s) return SW_ERR_NOMEM;
    int n = 0;
    for (int u = 0; u < l->units; u++)
        if (!alive || alive[u]) s[n++] = (scored){sw_unit_score(l, params, u), u};
    qsort(s, (size_t)n, sizeof *s, by_score);
    for (int i = 0; i < k && i < n; i++) out[i] = s[i].u;
    free(s);
    return SW_OK;
}

static int keep_count(double keep, int units)
{
    long long k = llround(keep * units);
    return k < 1 ? 1 : k > units ? units : (int)k;
}

sw_status sw_model_prune_units(sw_model *m, sw_prune_kind kind, double keep, sw_error *err)
{
    if (kind != SW_PRUNE_NEURONS && kind != SW_PRUNE_HEADS)
        return sw_error_set(err, SW_ERR_INVALID, "prune: one-shot pruning takes neurons or heads, not %s",
                            sw_prune_kind_name(kind));
    if (!(keep > 0 && keep <= 1))
        return sw_error_set(err, SW_ERR_INVALID, "prune: keep=%g (expected a fraction in (0, 1])", keep);
    sw_unit_layer *ls;
    int n;
    sw_status st = sw_unit_layers(m, kind, &ls, &n);
    if (st) return sw_error_set(err, st, "prune: cannot find the model's %s", sw_prune_kind_name(kind));
    if (n == 0) {
        return sw_error_set(err, SW_ERR_INVALID, "prune: an %s model has no %s to prune",
                            sw_model_get_spec(m)->kind == SW_MODEL_MLP ? "mlp" : "gpt", sw_prune_kind_name(kind));
    }
    float *p = sw_model_params(m);
    for (int i = 0; i < n && !st; i++) {
        int drop = ls[i].units - keep_count(keep, ls[i].units);
        int *low = malloc(sizeof(int) * (size_t)(drop > 0 ? drop : 1));
        if (!low) {
            st = sw_error_set(err, SW_ERR_NOMEM, "prune: out of memory");
            break;
        }
        if (sw_unit_lowest(&ls[i], p, NULL, drop, low) == SW_OK)
            for (int j = 0; j < drop; j++) sw_unit_zero(&ls[i], low[j], p);
        else
            st = sw_error_set(err, SW_ERR_NOMEM, "prune: out of memory");
        free(low);
    }
    free(ls);
    return st;
}

/* ---- compaction ----------------------------------------------------------- */

/* The units each layer keeps: per layer `count` indices, ascending, in
 * keep[layer * count ...]. alive units first; a layer with fewer alive than
 * `count` (a gpt's layers must match; every layer needs one) pads with dead
 * ones, which compute nothing either way. */
static int *kept_units(const sw_unit_layer *ls, int n, const float *p, int same_count, int *counts)
{
    int total = 0, most = 1;
    for (int i = 0; i < n; i++) {
        int a = 0;
        for (int u = 0; u < ls[i].units; u++) a += !sw_unit_is_dead(&ls[i], p, u);
        counts[i] = a > 0 ? a : 1;
        if (counts[i] > most) most = counts[i];
    }
    for (int i = 0; i < n; i++) {
        if (same_count) counts[i] = most;
        total += counts[i];
    }
    int *keep = malloc(sizeof(int) * (size_t)(total ? total : 1));
    if (!keep) return NULL;
    int *k = keep;
    for (int i = 0; i < n; i++) {
        int got = 0, pad = counts[i];
        for (int u = 0; u < ls[i].units; u++) pad -= !sw_unit_is_dead(&ls[i], p, u);
        for (int u = 0; u < ls[i].units && got < counts[i]; u++) {
            int dead = sw_unit_is_dead(&ls[i], p, u);
            if (!dead || pad > 0) {
                k[got++] = u;
                if (dead) pad--;
            }
        }
        k += counts[i];
    }
    return keep;
}

/* new[r][c] = old[rows ? rows[r] : r][cols ? cols[c] : c] for an (R, Cn) tensor
 * read from one Co columns wide (1-D: Cn = Co = 1). */
static void copy_mapped(float *dst, const float *src, size_t R, size_t Cn, size_t Co, const int *rows, const int *cols)
{
    for (size_t r = 0; r < R; r++) {
        const float *s = src + (rows ? (size_t)rows[r] : r) * Co;
        for (size_t c = 0; c < Cn; c++) dst[r * Cn + c] = s[cols ? (size_t)cols[c] : c];
    }
}

sw_status sw_model_compact(const sw_model *m, sw_model **out, sw_error *err)
{
    *out = NULL;
    const sw_model_spec *s = sw_model_get_spec(m);
    const float *p = sw_model_params((sw_model *)m);
    int gpt = s->kind == SW_MODEL_GPT;
    sw_unit_layer *nl = NULL, *hl = NULL;
    int nn = 0, nh = 0;
    sw_status st = sw_unit_layers(m, SW_PRUNE_NEURONS, &nl, &nn);
    if (!st && gpt) st = sw_unit_layers(m, SW_PRUNE_HEADS, &hl, &nh);
    int *ncount = calloc((size_t)nn + 1, sizeof(int)), *hcount = calloc((size_t)nh + 1, sizeof(int));
    int *nkeep = NULL, *hkeep = NULL, *qkv_rows = NULL, *head_cols = NULL;
    sw_model *c = NULL;
    if (!st && (!ncount || !hcount)) st = SW_ERR_NOMEM;
    if (!st && nn && !(nkeep = kept_units(nl, nn, p, gpt, ncount))) st = SW_ERR_NOMEM;
    if (!st && nh && !(hkeep = kept_units(hl, nh, p, 1, hcount))) st = SW_ERR_NOMEM;
    if (st) goto done;

    sw_model_spec cs = *s;
    int hs = 0, A = 0, NH2 = 0;
    if (gpt) {
        hs = s->head_dim ? s->head_dim : s->d_model / s->heads;
        A = s->heads * hs;
        NH2 = hcount[0];
        cs.ff = ncount[0] == 4 * s->d_model ? 0 : ncount[0];
        cs.heads = NH2;
        cs.head_dim = NH2 * hs == s->d_model ? 0 : hs;
        /* the row map of qkv (q | k | v blocks of the kept heads) and the
         * column map of proj, per layer */
        qkv_rows = malloc(sizeof(int) * (size_t)s->layers * 3 * NH2 * hs);
        head_cols = malloc(sizeof(int) * (size_t)s->layers * NH2 * hs);
        if (!qkv_rows || !head_cols) {
            st = SW_ERR_NOMEM;
            goto done;
        }
        for (int l = 0; l < s->layers; l++)
            for (int h = 0; h < NH2; h++)
                for (int i = 0; i < hs; i++) {
                    int head = hkeep[l * NH2 + h];
                    head_cols[(l * NH2 + h) * hs + i] = head * hs + i;
                    int *rows = qkv_rows + (size_t)l * 3 * NH2 * hs + h * hs + i;
                    for (int j = 0; j < 3; j++) rows[(size_t)j * NH2 * hs] = j * A + head * hs + i;
                }
    } else {
        for (int i = 0; i < nn; i++) cs.hidden[i] = ncount[i];
    }
    if ((st = sw_model_create(&cs, 0, &c, err))) goto fail_msg;
    float *q = sw_model_params(c);
    int F2 = gpt ? ncount[0] : 0;
    for (int t = 0; t < sw_model_num_tensors(c); t++) {
        sw_tensor_info tn, to;
        sw_model_tensor(c, t, &tn);
        sw_model_tensor(m, t, &to); /* same builder, same order of names */
        const int *rows = NULL, *cols = NULL;
        int i, l;
        char rest[48], wb;
        if (!gpt && sscanf(tn.name, "fc.%d.%c", &i, &wb) == 2) {
            int off = 0;
            for (int k = 0; k < i && k < nn; k++) off += ncount[k];
            if (i < nn) rows = nkeep + off;
            if (wb == 'w' && i > 0) cols = nkeep + off - ncount[i - 1];
        } else if (gpt && sscanf(tn.name, "h.%d.%47s", &l, rest) == 2) {
            if (!strcmp(rest, "attn.qkv.w") || !strcmp(rest, "attn.qkv.b")) rows = qkv_rows + (size_t)l * 3 * NH2 * hs;
            else if (!strcmp(rest, "attn.proj.w")) cols = head_cols + (size_t)l * NH2 * hs;
            else if (!strcmp(rest, "mlp.fc.w") || !strcmp(rest, "mlp.fc.b")) rows = nkeep + (size_t)l * F2;
            else if (!strcmp(rest, "mlp.proj.w")) cols = nkeep + (size_t)l * F2;
        }
        size_t R = (size_t)tn.shape[0], Cn = tn.ndim == 2 ? (size_t)tn.shape[1] : 1;
        size_t Co = to.ndim == 2 ? (size_t)to.shape[1] : 1;
        copy_mapped(q + tn.offset, p + to.offset, R, Cn, Co, rows, cols);
    }
    *out = c;
    c = NULL;
done:
    if (st)
        sw_error_set(err, st, "compact: %s", st == SW_ERR_NOMEM ? "out of memory" : "cannot find the model's units");
fail_msg:
    sw_model_free(c);
    free(nl);
    free(hl);
    free(ncount);
    free(hcount);
    free(nkeep);
    free(hkeep);
    free(qkv_rows);
    free(head_cols);
    return st;
}
