/* mlp: a feed-forward classifier.
 *
 *   h_0 = x (B, n_inputs)
 *   h_i = dropout(act(h_{i-1} W_i^T + b_i))     i = 1..n_hidden, act relu|gelu
 *   logits = h_n W_out^T + b_out                (B, n_classes)
 *   loss = mean_b CE(softmax(logits_b), y_b)
 *
 * Init: He (Kaiming) normal, W ~ N(0, 2/fan_in) (He et al. 2015), for the
 * hidden layers; the output layer N(0, 1/fan_in) (LeCun/Xavier-style, no
 * rectifier follows it); biases 0. Dropout stream i = hidden layer i. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/kernels.h"
#include "nn/model.h"

#define MAXL (SW_MLP_MAX_HIDDEN + 1)

typedef struct sw_mlp {
    int nl;                  /* linear layers: n_hidden + 1            */
    int in[MAXL], out[MAXL]; /* layer i: in[i] -> out[i]                */
    size_t woff[MAXL], boff[MAXL]; /* offsets of W_i (out,in), b_i (out) */
    int maxw;                /* widest hidden layer                     */
    /* activations, sized for B rows */
    int B;
    float *mem;
    size_t cap;
    float *x;                /* (B, n_inputs) copy of the features      */
    float *pre[MAXL];        /* (B, out[i]) pre-activation, i < n_hidden */
    float *act[MAXL];        /* (B, out[i]) after act and dropout       */
    float *logits, *probs, *dlogits; /* (B, K)                          */
    float *da, *dp;          /* (B, maxw) backward scratch              */
    int32_t *targets;        /* (B)                                     */
    int has_targets, dropout_on;
    uint64_t dropout_seed;
    uint64_t dropout_row;    /* the batch's first row in the whole batch (sw_batch.first_row) */
} sw_mlp;

sw_status sw_mlp_build(sw_model *m)
{
    const sw_model_spec *s = &m->spec;
    sw_mlp *g = calloc(1, sizeof *g);
    if (!g) return SW_ERR_NOMEM;
    m->impl = g;
    g->nl = s->n_hidden + 1;
    int prev = s->n_inputs;
    sw_status st = SW_OK;
    for (int i = 0; i < g->nl; i++) {
        g->in[i] = prev;
        g->out[i] = i < s->n_hidden ? s->hidden[i] : s->n_classes;
        if (i < s->n_hidden && g->out[i] > g->maxw) g->maxw = g->out[i];
        char name[32];
        snprintf(name, sizeof name, "fc.%d.w", i);
        st |= sw_model_add_tensor(m, name, 2, g->out[i], g->in[i], 0); /* (out, in) */
        snprintf(name, sizeof name, "fc.%d.b", i);
        st |= sw_model_add_tensor(m, name, 1, g->out[i], 0, 0); /* (out) */
        prev = g->out[i];
    }
    if (g->maxw < s->n_classes) g->maxw = s->n_classes;
    return st ? SW_ERR_NOMEM : SW_OK;
}

void sw_mlp_init(sw_model *m, uint64_t seed)
{
    sw_mlp *g = m->impl;
    sw_rng r;
    sw_rng_seed(&r, seed);
    for (int i = 0; i < g->nl; i++) {
        g->woff[i] = m->tensors[2 * i].offset;
        g->boff[i] = m->tensors[2 * i + 1].offset;
        double std = sqrt((i < g->nl - 1 ? 2.0 : 1.0) / g->in[i]);
        float *w = m->params + g->woff[i];
        for (size_t k = 0; k < (size_t)g->out[i] * g->in[i]; k++) w[k] = (float)(std * sw_rng_normal(&r));
    }
}

void sw_mlp_free(sw_model *m)
{
    sw_mlp *g = m->impl;
    if (!g) return;
    free(g->mem);
    free(g);
    m->impl = NULL;
}

static sw_status mlp_size(sw_model *m, int B)
{
    sw_mlp *g = m->impl;
    if (g->B == B && g->mem) return SW_OK;
    int nh = g->nl - 1, K = g->out[g->nl - 1];
    size_t need = 0;
#define R16(n) (((size_t)(n) + 15) / 16 * 16)
    need += R16((size_t)B * g->in[0]);
    for (int i = 0; i < nh; i++) need += 2 * R16((size_t)B * g->out[i]);
    need += 3 * R16((size_t)B * K) + 2 * R16((size_t)B * g->maxw) + R16(B);
    if (need > g->cap) {
        float *mem = sw_floats_alloc(need);
        if (!mem) return sw_model_fail(m, SW_ERR_NOMEM, "mlp: out of memory for a batch of %d", B);
        free(g->mem);
        g->mem = mem;
        g->cap = need;
    }
    float *p = g->mem;
    g->x = p;        p += R16((size_t)B * g->in[0]);
    for (int i = 0; i < nh; i++) {
        g->pre[i] = p; p += R16((size_t)B * g->out[i]);
        g->act[i] = p; p += R16((size_t)B * g->out[i]);
    }
    g->logits = p;   p += R16((size_t)B * K);
    g->probs = p;    p += R16((size_t)B * K);
    g->dlogits = p;  p += R16((size_t)B * K);
    g->da = p;       p += R16((size_t)B * g->maxw);
    g->dp = p;       p += R16((size_t)B * g->maxw);
    g->targets = (int32_t *)p;
#undef R16
    g->B = B;
    return SW_OK;
}

sw_status sw_mlp_forward(sw_model *m, const sw_batch *b, int training, float *loss)
{
    sw_mlp *g = m->impl;
    const sw_model_spec *s = &m->spec;
    int K = s->n_classes;
    if (b->B < 1 || !b->features)
        return sw_model_fail(m, SW_ERR_INVALID, "mlp forward: batch of %d rows (expected B >= 1 and features)", b->B);
    if (training && !b->targets) return sw_model_fail(m, SW_ERR_INVALID, "mlp forward: a training forward needs targets");
    if (b->targets)
        for (int i = 0; i < b->B; i++)
            if (b->targets[i] < 0 || b->targets[i] >= K)
                return sw_model_fail(m, SW_ERR_INVALID, "mlp forward: label %d in row %d (expected 0..%d)",
                                     (int)b->targets[i], i, K - 1);
    sw_status st = mlp_size(m, b->B);
    if (st != SW_OK) return st;
    int B = b->B;
    memcpy(g->x, b->features, (size_t)B * g->in[0] * sizeof(float));
    g->has_targets = b->targets != NULL;
    if (b->targets) memcpy(g->targets, b->targets, (size_t)B * sizeof(int32_t));
    g->dropout_on = training && s->dropout > 0.0f;
    g->dropout_seed = b->dropout_seed;
    g->dropout_row = (uint64_t)b->first_row;
    const float *h = g->x;
    for (int i = 0; i < g->nl; i++) {
        const float *w = m->params + g->woff[i], *bias = m->params + g->boff[i];
        if (i == g->nl - 1) {
            sw_matmul_forward(g->logits, h, w, bias, B, g->in[i], g->out[i]);
            break;
        }
        size_t n = (size_t)B * g->out[i];
        sw_matmul_forward(g->pre[i], h, w, bias, B, g->in[i], g->out[i]);
        if (s->act == SW_ACTIVATION_GELU)
            sw_gelu_forward(g->act[i], g->pre[i], n);
        else
            sw_relu_forward(g->act[i], g->pre[i], n);
        if (g->dropout_on)
            sw_dropout_forward(g->act[i], g->act[i], n, s->dropout, g->dropout_seed, (uint64_t)i,
                               g->dropout_row * (uint64_t)g->out[i]);
        h = g->act[i];
    }
    m->logits = g->logits;
    float l = 0.0f;
    if (b->targets) l = sw_xent_forward(g->probs, g->logits, g->targets, NULL, B, K);
    if (loss) *loss = l;
    return SW_OK;
}

sw_status sw_mlp_backward(sw_model *m)
{
    sw_mlp *g = m->impl;
    const sw_model_spec *s = &m->spec;
    if (!g->has_targets) return sw_model_fail(m, SW_ERR_STATE, "mlp backward: the last forward had no targets");
    int B = g->B, K = s->n_classes;
    sw_xent_backward(g->dlogits, g->probs, g->targets, NULL, B, K, 1.0f, 0);
    /* two scratch buffers in turn: after a layer's matmul backward its
     * output gradient is dead, so its buffer takes the next one */
    float *bx = g->da, *by = g->dp;
    const float *dy = g->dlogits; /* gradient of layer i's output */
    for (int i = g->nl - 1; i >= 0; i--) {
        const float *h = i == 0 ? g->x : g->act[i - 1];
        float *dh = NULL;
        size_t n = (size_t)B * g->in[i];
        if (i > 0) dh = dy == bx ? by : bx;
        sw_matmul_backward(dh, m->grads + g->woff[i], m->grads + g->boff[i], dy, h, m->params + g->woff[i], B,
                           g->in[i], g->out[i], 0);
        if (i == 0) break;
        float *spare = dh == bx ? by : bx;
        if (g->dropout_on) {
            sw_dropout_backward(spare, dh, n, s->dropout, g->dropout_seed, (uint64_t)(i - 1),
                                g->dropout_row * (uint64_t)g->in[i], 0);
            float *t = dh; dh = spare; spare = t;
        }
        if (s->act == SW_ACTIVATION_GELU)
            sw_gelu_backward(spare, g->pre[i - 1], dh, n, 0);
        else
            sw_relu_backward(spare, g->pre[i - 1], dh, n, 0);
        dy = spare;
    }
    return SW_OK;
}
