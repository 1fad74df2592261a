/* The generic part of a model: the one parameter buffer and its gradient twin,
 * the table of named tensors that lays them out, errors, and dispatch to the
 * kind (gpt.c, mlp.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"

float *sw_floats_alloc(size_t n)
{
    size_t bytes = (n ? n : 1) * sizeof(float);
    bytes = (bytes + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

sw_status sw_model_fail(sw_model *m, sw_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sw_vsnprintf(m->errmsg, sizeof m->errmsg, fmt, ap);
    va_end(ap);
    return s;
}

sw_status sw_model_add_tensor(sw_model *m, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    if (SW_ARRAY_RESERVE(m->tensors, m->cap_tensors, (size_t)m->n_tensors + 1)) return SW_ERR_NOMEM;
    size_t len = strlen(name) + 1;
    if (SW_ARRAY_RESERVE(m->names, m->names_cap, m->names_len + len)) return SW_ERR_NOMEM;
    memcpy(m->names + m->names_len, name, len);
    sw_tensor_info *t = &m->tensors[m->n_tensors++];
    memset(t, 0, sizeof *t);
    t->name = NULL; /* resolved after the names buffer stops moving */
    t->offset = m->names_len; /* temporarily: offset of the name */
    t->ndim = ndim;
    int64_t d[3] = {d0, d1, d2};
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = d[i];
        numel *= (size_t)d[i];
    }
    t->numel = numel;
    m->names_len += len;
    return SW_OK;
}

/* After build: turn name offsets into pointers and lay the tensors out in
 * table order. */
static void finish_layout(sw_model *m)
{
    size_t off = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        sw_tensor_info *t = &m->tensors[i];
        t->name = m->names + t->offset;
        t->offset = off;
        off += t->numel;
    }
    m->n_params = off;
}

/* A checked spec's model with its named tensors laid out, no memory for
 * them yet (params and grads NULL). */
static sw_status layout(const sw_model_spec *spec, sw_model **out, sw_error *err)
{
    sw_status st = sw_model_spec_check(spec, err);
    if (st != SW_OK) return st;
    sw_model *m = calloc(1, sizeof *m);
    if (!m) return sw_error_set(err, SW_ERR_NOMEM, "model: out of memory");
    m->spec = *spec;
    st = spec->kind == SW_MODEL_GPT ? sw_gpt_build(m) : sw_mlp_build(m);
    if (st != SW_OK) {
        sw_model_free(m);
        return sw_error_set(err, st, "model: out of memory laying out the model");
    }
    finish_layout(m);
    *out = m;
    return SW_OK;
}

sw_status sw_model_create(const sw_model_spec *spec, uint64_t seed, sw_model **out, sw_error *err)
{
    if (!out) return sw_error_set(err, SW_ERR_INVALID, "sw_model_create: out is NULL");
    *out = NULL;
    sw_model *m = NULL;
    sw_status st = layout(spec, &m, err);
    if (st != SW_OK) return st;
    m->params = sw_floats_alloc(m->n_params);
    m->grads = sw_floats_alloc(m->n_params);
    if (!m->params || !m->grads) {
        sw_model_free(m);
        return sw_error_set(err, SW_ERR_NOMEM, "model: out of memory building the model");
    }
    if (spec->kind == SW_MODEL_GPT)
        sw_gpt_init(m, seed);
    else
        sw_mlp_init(m, seed);
    *out = m;
    return SW_OK;
}

sw_status sw_model_spec_num_params(const sw_model_spec *spec, uint64_t *n, sw_error *err)
{
    *n = 0;
    sw_model *m = NULL;
    /* the build only lays out named tensors (a few kB); params stay NULL */
    sw_status st = layout(spec, &m, err);
    if (st != SW_OK) return st;
    *n = (uint64_t)m->n_params;
    sw_model_free(m);
    return SW_OK;
}

void sw_model_free(sw_model *m)
{
    if (!m) return;
    if (m->spec.kind == SW_MODEL_GPT)
        sw_gpt_free(m);
    else
        sw_mlp_free(m);
    free(m->params);
    free(m->grads);
    free(m->tensors);
    free(m->names);
    free(m);
}

const sw_model_spec *sw_model_get_spec(const sw_model *m) { return &m->spec; }
size_t sw_model_num_params(const sw_model *m) { return m->n_params; }
float *sw_model_params(sw_model *m) { return m->params; }
float *sw_model_grads(sw_model *m) { return m->grads; }
void sw_model_zero_grad(sw_model *m) { memset(m->grads, 0, m->n_params * sizeof(float)); }
int sw_model_num_tensors(const sw_model *m) { return m->n_tensors; }
const char *sw_model_errmsg(const sw_model *m) { return m->errmsg; }

void sw_model_tensor(const sw_model *m, int i, sw_tensor_info *out)
{
    if (i < 0 || i >= m->n_tensors) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = m->tensors[i];
}

sw_status sw_model_forward(sw_model *m, const sw_batch *b, int training, float *loss)
{
    if (!m || !b) return SW_ERR_INVALID;
    m->can_backward = 0;
    m->errmsg[0] = 0;
    sw_status st = m->spec.kind == SW_MODEL_GPT ? sw_gpt_forward(m, b, training, loss)
                                                : sw_mlp_forward(m, b, training, loss);
    if (st == SW_OK && training) m->can_backward = 1;
    return st;
}

sw_status sw_model_backward(sw_model *m)
{
    if (!m) return SW_ERR_INVALID;
    if (!m->can_backward)
        return sw_model_fail(m, SW_ERR_STATE, "backward needs a training forward with targets just before it");
    return m->spec.kind == SW_MODEL_GPT ? sw_gpt_backward(m) : sw_mlp_backward(m);
}

const float *sw_model_logits(const sw_model *m) { return m->logits; }
