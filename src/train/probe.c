/* The probe run: a short training whose product is a difficulty score per
 * training example; see probe.h. */
#include "train/probe.h"

#include "train/batch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SEQ_CHUNK = 64, CLS_CHUNK = 128 };

/* Loss, el2n and argmax-right of one output row (V logits) against target y;
 * the argmax runs over `allowed` (NULL: every class). */
static void row_stats(const float *l, int V, int32_t y, const uint8_t *allowed, double *loss, double *el2n, int *right)
{
    double mx = -INFINITY;
    for (int v = 0; v < V; v++)
        if (l[v] > mx) mx = l[v];
    double z = 0;
    for (int v = 0; v < V; v++) z += exp((double)l[v] - mx);
    double sq = 0;
    for (int v = 0; v < V; v++) {
        double p = exp((double)l[v] - mx) / z;
        sq += v == y ? (p - 1) * (p - 1) : p * p;
    }
    *loss = -(((double)l[y] - mx) - log(z));
    *el2n = sqrt(sq);
    int arg = -1;
    for (int v = 0; v < V; v++)
        if ((!allowed || allowed[v]) && (arg < 0 || l[v] > l[arg])) arg = v;
    *right = arg == y;
}

static sw_status score_classify(sw_model *m, const sw_dataset *ds, double *loss, double *el2n, uint8_t *right,
                                sw_error *err)
{
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    int F = sw_dataset_num_features(ds), C = sw_model_get_spec(m)->n_classes;
    float *features = malloc(sizeof(float) * CLS_CHUNK * (size_t)F);
    int32_t labels[CLS_CHUNK];
    uint32_t idx[CLS_CHUNK];
    if (!features) return sw_error_set(err, SW_ERR_NOMEM, "probe: out of memory");
    sw_status st = SW_OK;
    for (size_t s = 0; s < n && !st; s += CLS_CHUNK) {
        int B = (int)(n - s < CLS_CHUNK ? n - s : CLS_CHUNK);
        for (int r = 0; r < B; r++) idx[r] = (uint32_t)(s + (size_t)r);
        sw_batch_fill_classify(ds, SW_SPLIT_TRAIN, idx, B, features, labels);
        sw_batch b = {.B = B, .T = 1, .features = features, .targets = labels};
        if ((st = sw_model_forward(m, &b, 0, NULL))) {
            sw_error_set(err, st, "probe: forward pass failed: %s", sw_model_errmsg(m));
            break;
        }
        const float *logits = sw_model_logits(m);
        for (int r = 0; r < B; r++) {
            double lo, el;
            int ok;
            row_stats(logits + (size_t)r * C, C, labels[r], NULL, &lo, &el, &ok);
            if (loss) loss[s + (size_t)r] = lo;
            if (el2n) el2n[s + (size_t)r] = el;
            if (right) right[s + (size_t)r] = (uint8_t)ok;
        }
    }
    free(features);
    return st;
}

typedef struct { uint32_t ex; uint16_t ref; int len; } seq_item;

/* By length, so a chunk pads little; then by example and reference. */
static int item_cmp(const void *pa, const void *pb)
{
    const seq_item *a = pa, *b = pb;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    if (a->ex != b->ex) return a->ex < b->ex ? -1 : 1;
    return a->ref < b->ref ? -1 : a->ref > b->ref;
}

static sw_status score_sequence(sw_model *m, const sw_dataset *ds, double *loss, double *el2n, uint8_t *right,
                                sw_error *err)
{
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN), n_items = 0;
    const sw_model_spec *spec = sw_model_get_spec(m);
    int V = spec->vocab, T = spec->ctx;
    for (size_t i = 0; i < n; i++) n_items += (size_t)sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, i);
    seq_item *items = malloc(sizeof *items * (n_items ? n_items : 1));
    uint8_t *allowed = calloc((size_t)V, 1);
    int32_t *inputs = malloc(sizeof(int32_t) * SEQ_CHUNK * (size_t)T);
    int32_t *targets = malloc(sizeof(int32_t) * SEQ_CHUNK * (size_t)T);
    float *mask = malloc(sizeof(float) * SEQ_CHUNK * (size_t)T);
    double *best_loss = malloc(sizeof(double) * (n ? n : 1)), *best_el2n = malloc(sizeof(double) * (n ? n : 1));
    uint8_t *any_right = calloc(n ? n : 1, 1);
    sw_status st = SW_OK;
    if (!items || !allowed || !inputs || !targets || !mask || !best_loss || !best_el2n || !any_right) {
        st = sw_error_set(err, SW_ERR_NOMEM, "probe: out of memory for %zu training pairs", n_items);
        goto done;
    }
    const sw_vocab *vocab = sw_dataset_vocab(ds);
    for (int v = 0; v < V; v++) allowed[v] = sw_vocab_is_target(vocab, v) || v == SW_TOKEN_EOS;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        best_loss[i] = best_el2n[i] = INFINITY;
        int li;
        sw_dataset_input(ds, SW_SPLIT_TRAIN, i, &li);
        for (int j = 0, refs = sw_dataset_num_refs(ds, SW_SPLIT_TRAIN, i); j < refs; j++) {
            int lr;
            sw_dataset_ref(ds, SW_SPLIT_TRAIN, i, j, &lr);
            items[k++] = (seq_item){(uint32_t)i, (uint16_t)j, li + 1 + lr};
        }
    }
    qsort(items, n_items, sizeof *items, item_cmp);
    uint32_t ex[SEQ_CHUNK];
    uint16_t rf[SEQ_CHUNK];
    for (size_t s = 0; s < n_items; s += SEQ_CHUNK) {
        int B = (int)(n_items - s < SEQ_CHUNK ? n_items - s : SEQ_CHUNK);
        for (int r = 0; r < B; r++) {
            ex[r] = items[s + (size_t)r].ex;
            rf[r] = items[s + (size_t)r].ref;
        }
        int Tb = sw_batch_fill_sequence(ds, SW_SPLIT_TRAIN, ex, rf, B, T, inputs, targets, mask, NULL);
        sw_batch b = {.B = B, .T = Tb, .inputs = inputs, .targets = targets, .mask = mask};
        if ((st = sw_model_forward(m, &b, 0, NULL))) {
            sw_error_set(err, st, "probe: forward pass failed: %s", sw_model_errmsg(m));
            goto done;
        }
        const float *logits = sw_model_logits(m);
        for (int r = 0; r < B; r++) {
            double lo = 0, el = 0, positions = 0;
            int ok = 1;
            for (int p = 0; p < Tb; p++) {
                size_t at = (size_t)r * Tb + p;
                if (mask[at] == 0) continue;
                double l1, e1;
                int ok1;
                row_stats(logits + at * V, V, targets[at], allowed, &l1, &e1, &ok1);
                lo += l1;
                el += e1;
                ok &= ok1;
                positions++;
            }
            lo /= positions > 0 ? positions : 1;
            el /= positions > 0 ? positions : 1;
            uint32_t i = ex[r];
            if (lo < best_loss[i]) best_loss[i] = lo;
            if (el < best_el2n[i]) best_el2n[i] = el;
            any_right[i] |= (uint8_t)ok;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (loss) loss[i] = best_loss[i];
        if (el2n) el2n[i] = best_el2n[i];
        if (right) right[i] = any_right[i];
    }
done:
    free(items);
    free(allowed);
    free(inputs);
    free(targets);
    free(mask);
    free(best_loss);
    free(best_el2n);
    free(any_right);
    return st;
}

sw_status sw_probe_score(sw_model *model, const sw_dataset *ds, double *loss, double *el2n, uint8_t *right,
                         sw_error *err)
{
    if (sw_dataset_count(ds, SW_SPLIT_TRAIN) == 0)
        return sw_error_set(err, SW_ERR_INVALID, "probe: %s has an empty training split", sw_dataset_name(ds));
    return sw_dataset_kind(ds) == SW_TASK_SEQUENCE ? score_sequence(model, ds, loss, el2n, right, err)
                                                   : score_classify(model, ds, loss, el2n, right, err);
}

void sw_probe_count_forgetting(const uint8_t *prev, const uint8_t *cur, size_t n, uint32_t *forgets, uint8_t *learned)
{
    for (size_t i = 0; i < n; i++) {
        if (prev && prev[i] && !cur[i]) forgets[i]++;
        learned[i] |= cur[i];
    }
}

void sw_probe_scores(const sw_probe *p, sw_subsample_kind kind, double *out)
{
    for (size_t i = 0; i < p->n; i++) {
        if (kind == SW_SUBSAMPLE_EL2N) out[i] = p->el2n[i];
        else if (kind == SW_SUBSAMPLE_FORGETTING) {
            double l = isfinite(p->loss[i]) ? p->loss[i] : 1e300;
            out[i] = (p->learned[i] ? (double)p->forgets[i] : (double)p->points) + l / (1 + l);
        } else out[i] = p->loss[i];
    }
}

void sw_probe_free(sw_probe *p)
{
    if (!p) return;
    free(p->loss);
    free(p->el2n);
    free(p->forgets);
    free(p->learned);
    memset(p, 0, sizeof *p);
}

/* The run's schedule shrunk to the probe: every token length scaled. */
static sw_schedule probe_schedule(const sw_schedule *s, uint64_t tokens)
{
    sw_schedule p = *s;
    double f = s->total ? (double)tokens / (double)s->total : 1;
#define SCALE(x) ((x) = (uint64_t)((double)(x) * f))
    SCALE(p.warmup);
    SCALE(p.step);
    SCALE(p.period);
    SCALE(p.decay_start);
    SCALE(p.decay);
#undef SCALE
    if (s->kind == SW_SCHEDULE_STEP && !p.step) p.step = 1;
    if (s->kind == SW_SCHEDULE_RESTARTS && !p.period) p.period = 1;
    p.total = tokens;
    return p;
}

sw_status sw_probe_run(const sw_dataset *ds, const sw_model_spec *spec, const sw_optimizer_params *op,
                       const sw_schedule *sched, int batch, uint64_t seed, uint64_t tokens, int points, sw_probe *out,
                       sw_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    if (points < 1) points = 1;
    if (tokens < (uint64_t)points) tokens = (uint64_t)points;
    out->n = n;
    out->points = points;
    out->loss = malloc(sizeof(double) * (n ? n : 1));
    out->el2n = malloc(sizeof(double) * (n ? n : 1));
    out->forgets = calloc(n ? n : 1, sizeof(uint32_t));
    out->learned = calloc(n ? n : 1, 1);
    uint8_t *prev = calloc(n ? n : 1, 1), *cur = calloc(n ? n : 1, 1);
    sw_model *m = NULL;
    sw_optimizer *o = NULL;
    sw_batcher b;
    memset(&b, 0, sizeof b);
    sw_status st = SW_OK;
    if (!out->loss || !out->el2n || !out->forgets || !out->learned || !prev || !cur) {
        st = sw_error_set(err, SW_ERR_NOMEM, "probe: out of memory for %zu examples", n);
        goto done;
    }
    sw_model_spec s = *spec;
    if ((st = sw_model_create(&s, seed, &m, err)) || (st = sw_optimizer_create(op, sw_model_num_params(m), &o, err)) ||
        (st = sw_batcher_init(&b, ds, batch, s.ctx, seed, err)))
        goto done;
    sw_schedule ps = probe_schedule(sched, tokens);
    uint64_t t = 0, step = 0;
    for (int k = 1; k <= points; k++) {
        uint64_t until = tokens / (uint64_t)points * (uint64_t)k;
        if (k == points) until = tokens;
        int diverged = 0;
        while (t < until && !diverged) {
            sw_batch bt;
            uint64_t tok;
            sw_batcher_next(&b, &bt, &tok);
            bt.dropout_seed = sw_hash3(seed, 0xd50, step);
            float loss, gnorm = 0;
            sw_model_zero_grad(m);
            st = sw_model_forward(m, &bt, 1, &loss);
            if (!st) st = sw_model_backward(m);
            if (!st) st = sw_optimizer_step(o, sw_model_params(m), sw_model_grads(m), (float)sw_schedule_lr(&ps, t),
                                            &gnorm);
            /* a non-finite loss or gradient: the optimizer refused the step,
             * the weights are the last finite ones; score them */
            if ((!st || st == SW_ERR_INVALID) && (!isfinite(loss) || !isfinite(gnorm))) {
                st = SW_OK;
                diverged = 1;
                break;
            }
            if (st) {
                sw_error_set(err, st, "probe: training step %llu failed: %s", (unsigned long long)step,
                             sw_model_errmsg(m));
                goto done;
            }
            t += tok;
            step++;
        }
        if ((st = sw_probe_score(m, ds, out->loss, out->el2n, cur, err))) goto done;
        sw_probe_count_forgetting(k > 1 ? prev : NULL, cur, n, out->forgets, out->learned);
        memcpy(prev, cur, n);
        if (diverged) {
            out->points = k;
            break;
        }
    }
    out->tokens = t;
done:
    sw_batcher_free(&b);
    sw_optimizer_free(o);
    sw_model_free(m);
    free(prev);
    free(cur);
    if (st) sw_probe_free(out);
    return st;
}
