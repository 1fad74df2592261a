/* The pruner: one model's masks, grown along the schedule of
 * prune_schedule.c (Zhu & Gupta 2017) and applied after every optimizer step.
 *
 * The mask is one byte per parameter (1 kept, 0 pruned), in the parameters'
 * layout, so the same pass zeroes the weights, their gradients (before the
 * step: the global norm that clipping reads then ignores pruned weights),
 * AdamW's moments (so a pruned weight has no momentum that could move it) and
 * a weight average. Masks only grow: a recomputation scores pruned entries
 * (or units) below every live one, so they are always among those pruned.
 *
 * Magnitude: per weight matrix, the k = round(s x entries) smallest |w|, found
 * with a quickselect of the threshold, ties broken by index (deterministic).
 * Units: per layer, the k = round(s x units) lowest scores (prune_units.h). */
#include "stopwise/nn.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nn/prune_units.h"

struct sw_pruner {
    sw_prune_params p;   /* resolved: start, end, every in tokens */
    size_t n;            /* parameters */
    uint8_t *keep;       /* (n) 1 kept, 0 pruned */
    size_t lo, hi;       /* the part of the layout a mask can touch */
    int active;          /* some entry is pruned */
    uint64_t next;       /* the next scheduled point (tokens) */
    int done;            /* the final masks are in force */
    /* magnitude: the prunable weight matrices */
    int n_mats;
    size_t *mat_off, *mat_len;
    size_t *mat_pruned;  /* entries pruned per matrix */
    float *scratch;      /* (largest matrix) for the quickselect */
    /* neurons, heads */
    int n_layers;
    sw_unit_layer *layers;
    uint8_t **alive;     /* (n_layers)(units) */
    int *dead;           /* units pruned per layer */
};

/* A weight matrix, not an embedding, bias or LayerNorm gain. */
static int prunable_matrix(const sw_tensor_info *t)
{
    return t->ndim == 2 && strcmp(t->name, "wte") && strcmp(t->name, "wpe") && strcmp(t->name, "head.w");
}

const sw_prune_params *sw_pruner_params(const sw_pruner *pr) { return &pr->p; }
int sw_pruner_done(const sw_pruner *pr) { return pr->done; }

void sw_pruner_free(sw_pruner *pr)
{
    if (!pr) return;
    free(pr->keep);
    free(pr->mat_off);
    free(pr->mat_len);
    free(pr->mat_pruned);
    free(pr->scratch);
    for (int i = 0; i < pr->n_layers && pr->alive; i++) free(pr->alive[i]);
    free(pr->alive);
    free(pr->layers);
    free(pr->dead);
    free(pr);
}

static sw_status setup_magnitude(sw_pruner *pr, const sw_model *m)
{
    int nt = sw_model_num_tensors(m);
    pr->mat_off = calloc((size_t)nt, sizeof(size_t));
    pr->mat_len = calloc((size_t)nt, sizeof(size_t));
    pr->mat_pruned = calloc((size_t)nt, sizeof(size_t));
    if (!pr->mat_off || !pr->mat_len || !pr->mat_pruned) return SW_ERR_NOMEM;
    size_t big = 0;
    pr->lo = SIZE_MAX;
    for (int i = 0; i < nt; i++) {
        sw_tensor_info t;
        sw_model_tensor(m, i, &t);
        if (!prunable_matrix(&t)) continue;
        pr->mat_off[pr->n_mats] = t.offset;
        pr->mat_len[pr->n_mats++] = t.numel;
        if (t.numel > big) big = t.numel;
        if (t.offset < pr->lo) pr->lo = t.offset;
        if (t.offset + t.numel > pr->hi) pr->hi = t.offset + t.numel;
    }
    if (!pr->n_mats) pr->lo = 0;
    pr->scratch = malloc(sizeof(float) * (big ? big : 1));
    return pr->scratch ? SW_OK : SW_ERR_NOMEM;
}

static sw_status setup_units(sw_pruner *pr, const sw_model *m, sw_error *err)
{
    const sw_model_spec *s = sw_model_get_spec(m);
    const char *what = s->kind == SW_MODEL_MLP ? "mlp" : "gpt";
    sw_status st = sw_unit_layers(m, pr->p.kind, &pr->layers, &pr->n_layers);
    if (st) return sw_error_set(err, st, "prune: cannot find the model's %s", sw_prune_kind_name(pr->p.kind));
    if (!pr->n_layers)
        return sw_error_set(err, SW_ERR_INVALID, "prune %s: an %s model has no %s (%s)", sw_prune_kind_name(pr->p.kind),
                            what, sw_prune_kind_name(pr->p.kind),
                            s->kind == SW_MODEL_MLP && pr->p.kind == SW_PRUNE_HEADS ? "heads need a gpt"
                                                                                    : "it has no hidden layer");
    pr->alive = calloc((size_t)pr->n_layers, sizeof *pr->alive);
    pr->dead = calloc((size_t)pr->n_layers, sizeof *pr->dead);
    if (!pr->alive || !pr->dead) return sw_error_set(err, SW_ERR_NOMEM, "prune: out of memory");
    pr->lo = SIZE_MAX;
    for (int i = 0; i < pr->n_layers; i++) {
        const sw_unit_layer *l = &pr->layers[i];
        long long kept = llround((1 - pr->p.final) * l->units);
        if (kept < 1)
            return sw_error_set(err, SW_ERR_INVALID,
                                "prune %s: keep=%g leaves no unit of a layer of %d (expected keep >= %g)",
                                sw_prune_kind_name(pr->p.kind), 1 - pr->p.final, l->units, 0.5 / l->units);
        if (!(pr->alive[i] = malloc((size_t)l->units))) return sw_error_set(err, SW_ERR_NOMEM, "prune: out of memory");
        memset(pr->alive[i], 1, (size_t)l->units);
        size_t a, z;
        sw_unit_span(l, &a, &z);
        if (a < pr->lo) pr->lo = a;
        if (z > pr->hi) pr->hi = z;
    }
    return SW_OK;
}

sw_status sw_pruner_create(const sw_prune_params *p, const sw_model *m, sw_pruner **out, sw_error *err)
{
    *out = NULL;
    if (!p || !m) return sw_error_set(err, SW_ERR_INVALID, "prune: no params or model");
    if (p->end <= p->start || !p->every)
        return sw_error_set(err, SW_ERR_INVALID, "prune: the schedule is not resolved (sw_prune_params_resolve)");
    sw_pruner *pr = calloc(1, sizeof *pr);
    if (!pr) return sw_error_set(err, SW_ERR_NOMEM, "prune: out of memory");
    pr->p = *p;
    pr->n = sw_model_num_params(m);
    pr->next = p->start;
    pr->keep = malloc(pr->n ? pr->n : 1);
    sw_status st = pr->keep ? SW_OK : sw_error_set(err, SW_ERR_NOMEM, "prune: out of memory");
    if (!st) memset(pr->keep, 1, pr->n);
    if (!st && p->kind == SW_PRUNE_MAGNITUDE) {
        if ((st = setup_magnitude(pr, m))) sw_error_set(err, st, "prune: out of memory");
        else if (!pr->n_mats) st = sw_error_set(err, SW_ERR_INVALID, "prune magnitude: the model has no weight matrix");
    } else if (!st) {
        st = setup_units(pr, m, err);
    }
    if (st) {
        sw_pruner_free(pr);
        return st;
    }
    *out = pr;
    return SW_OK;
}

/* ---- magnitude ------------------------------------------------------------ */

/* The k-th smallest (0-based) of a[0..n), reordering a: Hoare's quickselect
 * with a median-of-three pivot (deterministic). The values are finite (the
 * optimizer refuses a non-finite step), so the scans stop at the pivot. */
static float select_kth(float *a, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
    while (hi > lo) {
        float x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi];
        float pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                float t = a[i];
                a[i++] = a[j];
                a[j--] = t;
            }
        }
        /* now a[lo..j] <= pivot <= a[i..hi], and anything between equals it */
        if (kk <= j) hi = j;
        else if (kk >= i) lo = i;
        else return a[kk];
    }
    return a[kk];
}

/* Grows matrix i's mask to k pruned entries: the smallest |w| (pruned ones
 * count as -1, below every weight), ties by index. */
static void grow_matrix(sw_pruner *pr, int i, const float *w, size_t k)
{
    size_t off = pr->mat_off[i], n = pr->mat_len[i];
    if (k <= pr->mat_pruned[i]) return;
    const uint8_t *keep = pr->keep + off;
    for (size_t j = 0; j < n; j++) pr->scratch[j] = keep[j] ? fabsf(w[off + j]) : -1.0f;
    float thr = select_kth(pr->scratch, n, k - 1);
    size_t below = 0;
    for (size_t j = 0; j < n; j++) below += (keep[j] ? fabsf(w[off + j]) : -1.0f) < thr;
    size_t ties = k - below; /* how many entries equal to the threshold go: the first by index */
    for (size_t j = 0; j < n; j++) {
        float a = keep[j] ? fabsf(w[off + j]) : -1.0f;
        if (a < thr) {
            pr->keep[off + j] = 0;
        } else if (a == thr && ties > 0) {
            pr->keep[off + j] = 0;
            ties--;
        }
    }
    pr->mat_pruned[i] = k;
}

/* ---- the schedule ----------------------------------------------------------- */

/* Grows the masks to the pruned fraction s. Out of memory for a layer's
 * scratch (units x 16 bytes), that layer waits for the next scheduled point. */
static void grow(sw_pruner *pr, const float *w, double s)
{
    if (pr->p.kind == SW_PRUNE_MAGNITUDE) {
        for (int i = 0; i < pr->n_mats; i++) {
            long long k = llround(s * (double)pr->mat_len[i]);
            if (k > 0) grow_matrix(pr, i, w, (size_t)k);
        }
    } else {
        for (int i = 0; i < pr->n_layers; i++) {
            const sw_unit_layer *l = &pr->layers[i];
            int max_drop = l->units - 1;
            long long k = llround(s * l->units);
            if (k > max_drop) k = max_drop;
            int more = (int)k - pr->dead[i];
            if (more <= 0) continue;
            int *low = malloc(sizeof(int) * (size_t)more);
            if (!low || sw_unit_lowest(l, w, pr->alive[i], more, low) != SW_OK) {
                free(low);
                continue;
            }
            for (int j = 0; j < more; j++) {
                pr->alive[i][low[j]] = 0;
                sw_unit_unmask(l, low[j], pr->keep);
            }
            pr->dead[i] += more;
            free(low);
        }
    }
    for (size_t j = pr->lo; j < pr->hi && !pr->active; j++) pr->active = !pr->keep[j];
}

/* The scheduled point at or before `tokens` (t0 + j dt, or t1). */
static uint64_t point_at(const sw_prune_params *p, uint64_t tokens)
{
    if (tokens >= p->end) return p->end;
    return p->start + (tokens - p->start) / p->every * p->every;
}

/* The first scheduled point after `tokens`; UINT64_MAX past t1. */
static uint64_t point_after(const sw_prune_params *p, uint64_t tokens)
{
    if (tokens < p->start) return p->start;
    if (tokens >= p->end) return UINT64_MAX;
    uint64_t next = point_at(p, tokens) + p->every;
    return next < p->end ? next : p->end;
}

void sw_pruner_apply(const sw_pruner *pr, float *buf, size_t count)
{
    if (!pr || !pr->active || !buf || !pr->n) return;
    const uint8_t *keep = pr->keep;
    for (size_t base = 0; base + pr->n <= count; base += pr->n) {
        float *b = buf + base;
        for (size_t j = pr->lo; j < pr->hi; j++) b[j] = keep[j] ? b[j] : 0.0f;
    }
}

int sw_pruner_step(sw_pruner *pr, sw_model *m, uint64_t tokens)
{
    int grew = 0;
    if (!pr->done && tokens >= pr->next) {
        uint64_t at = point_at(&pr->p, tokens);
        grow(pr, sw_model_params(m), sw_prune_sparsity(&pr->p, at));
        pr->next = point_after(&pr->p, at);
        pr->done = at >= pr->p.end;
        grew = 1;
    }
    sw_pruner_apply(pr, sw_model_params(m), pr->n);
    return grew;
}

void sw_pruner_restore(sw_pruner *pr, const sw_model *m, uint64_t tokens)
{
    const float *w = sw_model_params((sw_model *)m);
    memset(pr->keep, 1, pr->n);
    if (pr->p.kind == SW_PRUNE_MAGNITUDE) {
        for (int i = 0; i < pr->n_mats; i++) {
            size_t z = 0;
            for (size_t j = pr->mat_off[i]; j < pr->mat_off[i] + pr->mat_len[i]; j++)
                if (w[j] == 0.0f) pr->keep[j] = 0, z++;
            pr->mat_pruned[i] = z;
        }
    } else {
        for (int i = 0; i < pr->n_layers; i++) {
            pr->dead[i] = 0;
            for (int u = 0; u < pr->layers[i].units; u++) {
                pr->alive[i][u] = !sw_unit_is_dead(&pr->layers[i], w, u);
                if (!pr->alive[i][u]) {
                    pr->dead[i]++;
                    sw_unit_unmask(&pr->layers[i], u, pr->keep);
                }
            }
        }
    }
    pr->active = 0;
    for (size_t j = pr->lo; j < pr->hi && !pr->active; j++) pr->active = !pr->keep[j];
    pr->next = tokens < pr->p.start ? pr->p.start : point_after(&pr->p, tokens);
    pr->done = pr->next == UINT64_MAX;
}

double sw_pruner_sparsity(const sw_pruner *pr)
{
    double pruned = 0, total = 0;
    if (pr->p.kind == SW_PRUNE_MAGNITUDE)
        for (int i = 0; i < pr->n_mats; i++) pruned += (double)pr->mat_pruned[i], total += (double)pr->mat_len[i];
    else
        for (int i = 0; i < pr->n_layers; i++) pruned += pr->dead[i], total += pr->layers[i].units;
    return total > 0 ? pruned / total : 0;
}

double sw_pruner_measure(const sw_pruner *pr, const float *w)
{
    double zero = 0, total = 0;
    if (pr->p.kind == SW_PRUNE_MAGNITUDE) {
        for (int i = 0; i < pr->n_mats; i++) {
            for (size_t j = pr->mat_off[i]; j < pr->mat_off[i] + pr->mat_len[i]; j++) zero += w[j] == 0.0f;
            total += (double)pr->mat_len[i];
        }
    } else {
        for (int i = 0; i < pr->n_layers; i++) {
            for (int u = 0; u < pr->layers[i].units; u++) zero += sw_unit_is_dead(&pr->layers[i], w, u);
            total += pr->layers[i].units;
        }
    }
    return total > 0 ? zero / total : 0;
}
