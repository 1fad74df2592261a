/* Weight averaging (EMA and LAWA) beside the raw weights; see average.h. */
#include "train/average.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sw_status sw_average_spec_parse(const char *text, sw_average_spec *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    out->decay = 0.999;
    out->k = 5;
    if (!text || !*text || !strcmp(text, "none")) return SW_OK;
    const char *colon = strchr(text, ':');
    size_t nlen = colon ? (size_t)(colon - text) : strlen(text);
    if (nlen == 3 && !strncmp(text, "ema", 3)) out->kind = SW_AVERAGE_EMA;
    else if (nlen == 4 && !strncmp(text, "lawa", 4)) out->kind = SW_AVERAGE_LAWA;
    else
        return sw_error_set(err, SW_ERR_INVALID, "average '%s': expected none, ema[:decay=D] or lawa[:k=K]", text);
    if (!colon) return SW_OK;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", colon + 1);
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return sw_error_set(err, SW_ERR_INVALID, "average '%s': expected key=value, got '%s'", text, kv);
        *eq = 0;
        if (out->kind == SW_AVERAGE_EMA && !strcmp(kv, "decay")) {
            if (sw_parse_double(eq + 1, &out->decay) || !(out->decay > 0 && out->decay < 1))
                return sw_error_set(err, SW_ERR_INVALID, "average '%s': decay must be a number in (0, 1)", text);
        } else if (out->kind == SW_AVERAGE_LAWA && !strcmp(kv, "k")) {
            long long k;
            if (sw_parse_int(eq + 1, 2, 64, &k))
                return sw_error_set(err, SW_ERR_INVALID, "average '%s': k must be an integer in 2..64", text);
            out->k = (int)k;
        } else {
            return sw_error_set(err, SW_ERR_INVALID, "average '%s': unknown key '%s' (ema takes decay, lawa takes k)",
                                text, kv);
        }
    }
    return SW_OK;
}

const char *sw_average_spec_format(const sw_average_spec *s, char *buf, size_t len)
{
    if (s->kind == SW_AVERAGE_EMA) sw_snprintf(buf, len, "ema:decay=%.9g", s->decay);
    else if (s->kind == SW_AVERAGE_LAWA) snprintf(buf, len, "lawa:k=%d", s->k);
    else snprintf(buf, len, "none");
    return buf;
}

const char *sw_average_name(sw_average_kind kind)
{
    return kind == SW_AVERAGE_EMA ? "ema" : kind == SW_AVERAGE_LAWA ? "lawa" : "raw";
}

sw_status sw_average_init(sw_average *a, const sw_average_spec *spec, const float *params, size_t n, sw_error *err)
{
    memset(a, 0, sizeof *a);
    a->spec = *spec;
    a->n = n;
    if (spec->kind == SW_AVERAGE_NONE) return SW_OK;
    a->avg = malloc(sizeof(float) * n);
    if (spec->kind == SW_AVERAGE_LAWA) a->ring = calloc((size_t)spec->k * n, sizeof(float));
    if (!a->avg || (spec->kind == SW_AVERAGE_LAWA && !a->ring)) {
        sw_average_free(a);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory for the weight average (%zu parameters)", n);
    }
    memcpy(a->avg, params, sizeof(float) * n);
    return SW_OK;
}

void sw_average_free(sw_average *a)
{
    free(a->avg);
    free(a->ring);
    a->avg = a->ring = NULL;
}

void sw_average_step(sw_average *a, const float *params)
{
    if (a->spec.kind != SW_AVERAGE_EMA) return;
    double t = (double)a->updates++;
    double d = (1 + t) / (10 + t);
    if (d > a->spec.decay) d = a->spec.decay;
    float df = (float)d, wf = (float)(1 - d);
    float *restrict avg = a->avg;
    const float *restrict w = params;
    /* a weight that has not moved from the average keeps it exactly: a frozen
     * tensor (`train --freeze`) stays bit for bit in the average too, where
     * d a + (1 - d) a may round to a neighbour of a */
    for (size_t i = 0; i < a->n; i++) avg[i] = avg[i] == w[i] ? avg[i] : df * avg[i] + wf * w[i];
}

void sw_average_snapshot(sw_average *a, const float *params)
{
    if (a->spec.kind != SW_AVERAGE_LAWA) return;
    size_t slot = (size_t)(a->updates % (uint64_t)a->spec.k);
    memcpy(a->ring + slot * a->n, params, sizeof(float) * a->n);
    a->updates++;
}

void sw_average_swap(sw_average *a, float *params)
{
    if (a->spec.kind == SW_AVERAGE_NONE) return;
    if (a->spec.kind == SW_AVERAGE_LAWA && !a->swapped) {
        /* the mean of the snapshots taken so far, summed in slot order so the
         * result does not depend on anything but the snapshots */
        size_t m = a->updates < (uint64_t)a->spec.k ? (size_t)a->updates : (size_t)a->spec.k;
        if (m == 0) {
            memcpy(a->avg, params, sizeof(float) * a->n);
        } else {
            float inv = 1.0f / (float)m;
            for (size_t i = 0; i < a->n; i++) {
                float s = 0, first = a->ring[i];
                int same = 1;
                for (size_t j = 0; j < m; j++) {
                    s += a->ring[j * a->n + i];
                    same &= a->ring[j * a->n + i] == first;
                }
                /* the mean of equal snapshots is that value exactly (a frozen
                 * tensor, `train --freeze`); (m x) / m may round off it */
                a->avg[i] = same ? first : s * inv;
            }
        }
    }
    for (size_t i = 0; i < a->n; i++) {
        float t = params[i];
        params[i] = a->avg[i];
        a->avg[i] = t;
    }
    a->swapped = !a->swapped;
}

float *sw_average_state(sw_average *a, size_t *count)
{
    if (a->spec.kind == SW_AVERAGE_EMA) {
        *count = a->n;
        return a->avg;
    }
    if (a->spec.kind == SW_AVERAGE_LAWA) {
        *count = (size_t)a->spec.k * a->n;
        return a->ring;
    }
    *count = 0;
    return NULL;
}
