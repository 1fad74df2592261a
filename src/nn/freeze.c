/* Frozen tensors (`train --freeze`): a spec of glob patterns over the model's
 * tensor names, each with an optional unfreeze point in tokens, bound to one
 * model. The optimizer does the freezing (sw_optimizer_freeze: frozen
 * parameters are skipped by every pass, so they keep their bits); this file
 * only decides which tensors are frozen at a given token count. */
#include "stopwise/nn.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FROZEN_FOREVER UINT64_MAX

struct sw_freeze {
    int n_tensors;
    uint64_t *until;   /* (n_tensors) frozen for steps starting before this many tokens; 0 = never frozen */
    size_t (*ranges)[2];  /* (n_tensors) each tensor's [begin, end) in the parameter buffer */
    size_t *scratch;   /* (2 n_tensors) the frozen ranges handed to the optimizer */
    int *state;        /* (n_tensors) frozen at the last apply (-1 before the first) */
    char *text;        /* canonical spec */
};

void sw_freeze_free(sw_freeze *f)
{
    if (!f) return;
    free(f->until);
    free(f->ranges);
    free(f->scratch);
    free(f->state);
    free(f->text);
    free(f);
}

/* A tensor name with every number that is a whole part between dots written
 * as N: h.0.ln1.w -> h.N.ln1.w. */
static void name_form(const char *name, char *form, size_t len)
{
    size_t k = 0;
    for (const char *p = name; *p && k + 1 < len; p++) {
        const char *e = p;
        while (isdigit((unsigned char)*e)) e++;
        if (e > p && (p == name || p[-1] == '.') && (*e == '.' || !*e)) {
            form[k++] = 'N';
            p = e - 1;
        } else {
            form[k++] = *p;
        }
    }
    form[k] = 0;
}

/* The model's name forms, each once, in layout order: what an error lists. */
static void name_forms(const sw_model *m, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    int nt = sw_model_num_tensors(m);
    for (int i = 0; i < nt; i++) {
        sw_tensor_info t, u;
        char form[128], earlier[128];
        sw_model_tensor(m, i, &t);
        name_form(t.name, form, sizeof form);
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) {
            sw_model_tensor(m, j, &u);
            name_form(u.name, earlier, sizeof earlier);
            seen = !strcmp(form, earlier);
        }
        if (seen) continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", form);
        if (w < 0 || (size_t)w >= len - used) break;
        used += (size_t)w;
    }
}

/* One PATTERN[@TOKENS] of spec (part is cut in place at the '@'): marks the
 * tensors it matches and appends its canonical text to text. */
static sw_status add_pattern(sw_freeze *f, const sw_model *m, const char *spec, char *part, char *text,
                             sw_error *err)
{
    uint64_t until = FROZEN_FOREVER;
    char *at = strrchr(part, '@');
    if (at) {
        *at = 0;
        if (sw_parse_tokens(at + 1, &until) || until == 0)
            return sw_error_set(err, SW_ERR_INVALID,
                                "freeze '%s': '%s@%s': the unfreeze point must be a positive token count (e.g. 200k)",
                                spec, part, at + 1);
    }
    if (!*part)
        return sw_error_set(err, SW_ERR_INVALID, "freeze '%s': an empty pattern (expected PATTERN[@TOKENS],...)", spec);
    int matched = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        sw_tensor_info t;
        sw_model_tensor(m, i, &t);
        if (fnmatch(part, t.name, 0) != 0) continue;
        matched++;
        if (until > f->until[i]) f->until[i] = until; /* the latest point of the patterns that match */
    }
    if (!matched) {
        char forms[2048];
        name_forms(m, forms, sizeof forms);
        return sw_error_set(err, SW_ERR_INVALID,
                            "freeze '%s': pattern '%s' matches no tensor of the model; its tensors are %s (N: a "
                            "number from 0)", spec, part, forms);
    }
    char tok[32];
    strcat(text, text[0] ? "," : "");
    strcat(text, part);
    if (until != FROZEN_FOREVER) {
        strcat(text, "@");
        strcat(text, sw_format_tokens_exact(until, 3, tok, sizeof tok));
    }
    return SW_OK;
}

sw_status sw_freeze_create(const char *spec, const sw_model *m, sw_freeze **out, sw_error *err)
{
    *out = NULL;
    if (!spec || !*spec) return sw_error_set(err, SW_ERR_INVALID, "freeze: empty spec (expected PATTERN[@TOKENS],...)");
    sw_freeze *f = calloc(1, sizeof *f);
    if (!f) return sw_error_set(err, SW_ERR_NOMEM, "freeze: out of memory");
    f->n_tensors = sw_model_num_tensors(m);
    size_t nt = (size_t)(f->n_tensors ? f->n_tensors : 1), len = strlen(spec);
    f->until = calloc(nt, sizeof *f->until);
    f->ranges = calloc(nt, sizeof *f->ranges);
    f->scratch = calloc(2 * nt, sizeof *f->scratch);
    f->state = malloc(nt * sizeof *f->state);
    /* the canonical text is at most the spec with every point rewritten (24 bytes each) */
    f->text = calloc(len + 24 * (len + 1) + 1, 1);
    char *copy = strdup(spec);
    if (!f->until || !f->ranges || !f->scratch || !f->state || !f->text || !copy) {
        free(copy);
        sw_freeze_free(f);
        return sw_error_set(err, SW_ERR_NOMEM, "freeze: out of memory");
    }
    for (int i = 0; i < f->n_tensors; i++) {
        sw_tensor_info t;
        sw_model_tensor(m, i, &t);
        f->ranges[i][0] = t.offset;
        f->ranges[i][1] = t.offset + t.numel;
        f->state[i] = -1;
    }
    sw_status st = SW_OK;
    char *save = NULL;
    for (char *part = strtok_r(copy, ",", &save); part && !st; part = strtok_r(NULL, ",", &save))
        st = add_pattern(f, m, spec, part, f->text, err);
    free(copy);
    if (!st && !f->text[0])
        st = sw_error_set(err, SW_ERR_INVALID, "freeze '%s': no pattern (expected PATTERN[@TOKENS],...)", spec);
    if (st) {
        sw_freeze_free(f);
        return st;
    }
    *out = f;
    return SW_OK;
}

const char *sw_freeze_text(const sw_freeze *f) { return f ? f->text : ""; }

int sw_freeze_tensor_frozen(const sw_freeze *f, int i, uint64_t tokens)
{
    return f && i >= 0 && i < f->n_tensors && tokens < f->until[i];
}

sw_status sw_freeze_apply(sw_freeze *f, sw_optimizer *o, uint64_t tokens, int *changed, sw_error *err)
{
    int diff = 0, first = 0;
    size_t n = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        int fr = sw_freeze_tensor_frozen(f, i, tokens);
        first |= f->state[i] < 0;
        diff |= f->state[i] < 0 ? fr : fr != f->state[i];
        if (fr) {
            f->scratch[2 * n] = f->ranges[i][0];
            f->scratch[2 * n + 1] = f->ranges[i][1];
            n++;
        }
    }
    if (changed) *changed = diff;
    if (!diff && !first) return SW_OK; /* the optimizer already holds this set */
    sw_status st = sw_optimizer_freeze(o, f->scratch, n, err);
    if (st) return st;
    for (int i = 0; i < f->n_tensors; i++) f->state[i] = sw_freeze_tensor_frozen(f, i, tokens);
    return SW_OK;
}
