/* Model specs: the one-line text form, its canonical printing and the check
 * of a complete spec.
 *   gpt:layers=4,d=128,heads=4,ctx=32[,vocab=V][,tied=0|1][,dropout=P][,ff=F][,hd=H]
 *   mlp:hidden=256x128,act=relu|gelu[,dropout=P][,inputs=N][,classes=K] */
#include <stdio.h>
#include <string.h>

#include "nn/kernels.h"
#include "stopwise/nn.h"

#define MAX_LAYERS 256
#define MAX_D 16384
#define MAX_VOCAB (1 << 24)
#define MAX_WIDTH (1 << 20)

static void spec_defaults(sw_model_kind kind, sw_model_spec *s)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (kind == SW_MODEL_GPT) {
        s->layers = 4;
        s->d_model = 128;
        s->heads = 4;
        s->tied = 1;
    } else {
        s->n_hidden = 1;
        s->hidden[0] = 256;
    }
    s->act = SW_ACTIVATION_RELU;
}

/* value of `key` as an int in [lo, hi] */
static sw_status parse_int_field(const char *text, const char *key, const char *val, int lo, int hi, int *out,
                                 sw_error *err)
{
    long long v;
    if (sw_parse_int(val, lo, hi, &v) != SW_OK)
        return sw_error_set(err, SW_ERR_INVALID, "model spec '%s': bad value '%s' for %s (expected an integer %d..%d)",
                            text, val, key, lo, hi);
    *out = (int)v;
    return SW_OK;
}

static sw_status parse_hidden(const char *text, const char *val, sw_model_spec *s, sw_error *err)
{
    int n = 0;
    const char *p = val;
    for (;;) {
        char num[32];
        size_t len = strcspn(p, "x");
        if (len == 0 || len >= sizeof num || n == SW_MLP_MAX_HIDDEN) goto bad;
        memcpy(num, p, len);
        num[len] = 0;
        long long v;
        if (sw_parse_int(num, 1, MAX_WIDTH, &v) != SW_OK) goto bad;
        s->hidden[n++] = (int)v;
        if (!p[len]) break;
        p += len + 1;
    }
    s->n_hidden = n;
    for (int i = n; i < SW_MLP_MAX_HIDDEN; i++) s->hidden[i] = 0;
    return SW_OK;
bad:
    return sw_error_set(err, SW_ERR_INVALID,
                        "model spec '%s': bad value '%s' for hidden (expected 1 to %d widths 1..%d joined by 'x', "
                        "e.g. 256x128)",
                        text, val, SW_MLP_MAX_HIDDEN, MAX_WIDTH);
}

sw_status sw_model_spec_parse(const char *text, sw_model_spec *out, sw_error *err)
{
    if (!text || !out) return sw_error_set(err, SW_ERR_INVALID, "model spec: NULL argument");
    char buf[1024];
    if (strlen(text) >= sizeof buf)
        return sw_error_set(err, SW_ERR_INVALID, "model spec: longer than %zu characters", sizeof buf - 1);
    strcpy(buf, text);
    char *colon = strchr(buf, ':');
    if (colon) *colon = 0;
    sw_model_spec s;
    if (strcmp(buf, "gpt") == 0)
        spec_defaults(SW_MODEL_GPT, &s);
    else if (strcmp(buf, "mlp") == 0)
        spec_defaults(SW_MODEL_MLP, &s);
    else
        return sw_error_set(err, SW_ERR_INVALID, "model spec '%s': unknown model kind '%s' (expected gpt or mlp)",
                            text, buf);
    int gpt = s.kind == SW_MODEL_GPT;
    char *p = colon ? colon + 1 : NULL;
    while (p && *p) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        char *eq = strchr(p, '=');
        if (!eq || eq == p)
            return sw_error_set(err, SW_ERR_INVALID, "model spec '%s': '%s' is not key=value", text, p);
        *eq = 0;
        const char *key = p, *val = eq + 1;
        sw_status st = SW_OK;
        if (gpt && strcmp(key, "layers") == 0)
            st = parse_int_field(text, key, val, 1, MAX_LAYERS, &s.layers, err);
        else if (gpt && strcmp(key, "d") == 0)
            st = parse_int_field(text, key, val, 1, MAX_D, &s.d_model, err);
        else if (gpt && strcmp(key, "heads") == 0)
            st = parse_int_field(text, key, val, 1, MAX_D, &s.heads, err);
        else if (gpt && strcmp(key, "ctx") == 0)
            st = parse_int_field(text, key, val, 0, SW_ATT_MAX_T, &s.ctx, err);
        else if (gpt && strcmp(key, "vocab") == 0)
            st = parse_int_field(text, key, val, 0, MAX_VOCAB, &s.vocab, err);
        else if (gpt && strcmp(key, "tied") == 0)
            st = parse_int_field(text, key, val, 0, 1, &s.tied, err);
        else if (gpt && strcmp(key, "ff") == 0)
            st = parse_int_field(text, key, val, 1, 4 * MAX_D, &s.ff, err);
        else if (gpt && strcmp(key, "hd") == 0)
            st = parse_int_field(text, key, val, 1, MAX_D, &s.head_dim, err);
        else if (!gpt && strcmp(key, "hidden") == 0)
            st = parse_hidden(text, val, &s, err);
        else if (!gpt && strcmp(key, "act") == 0) {
            if (strcmp(val, "relu") == 0)
                s.act = SW_ACTIVATION_RELU;
            else if (strcmp(val, "gelu") == 0)
                s.act = SW_ACTIVATION_GELU;
            else
                st = sw_error_set(err, SW_ERR_INVALID, "model spec '%s': bad value '%s' for act (expected relu or gelu)",
                                  text, val);
        } else if (!gpt && strcmp(key, "inputs") == 0)
            st = parse_int_field(text, key, val, 0, MAX_WIDTH, &s.n_inputs, err);
        else if (!gpt && strcmp(key, "classes") == 0)
            st = parse_int_field(text, key, val, 0, MAX_WIDTH, &s.n_classes, err);
        else if (strcmp(key, "dropout") == 0) {
            double d;
            /* checked as the float it is kept as: 0.9999999999999 rounds to 1 */
            if (sw_parse_double(val, &d) != SW_OK || !(d >= 0.0 && (float)d < 1.0f))
                st = sw_error_set(err, SW_ERR_INVALID,
                                  "model spec '%s': bad value '%s' for dropout (expected a probability in [0, 1))",
                                  text, val);
            s.dropout = (float)d;
        } else
            st = sw_error_set(err, SW_ERR_INVALID, "model spec '%s': unknown key '%s' for %s (expected %s)", text, key,
                              gpt ? "gpt" : "mlp",
                              gpt ? "layers, d, heads, ctx, vocab, tied, dropout, ff or hd"
                                  : "hidden, act, dropout, inputs or classes");
        if (st != SW_OK) return st;
        p = comma ? comma + 1 : NULL;
    }
    if (gpt && !s.head_dim && s.d_model % s.heads != 0)
        return sw_error_set(err, SW_ERR_INVALID, "model spec '%s': heads=%d does not divide d=%d", text, s.heads,
                            s.d_model);
    /* the defaults are stored as 0, so a spec reads the same however it was written */
    if (gpt && s.ff == 4 * s.d_model) s.ff = 0;
    if (gpt && s.head_dim && s.head_dim * s.heads == s.d_model) s.head_dim = 0;
    *out = s;
    return SW_OK;
}

char *sw_model_spec_format(const sw_model_spec *s, char *buf, size_t len)
{
    if (!buf || len == 0) return buf;
    char drop[32]; /* the shortest text that reads back as the same float: 0.2, not 0.200000003 */
    sw_format_float(s->dropout, drop, sizeof drop);
    if (s->kind == SW_MODEL_GPT) {
        int n = snprintf(buf, len, "gpt:layers=%d,d=%d,heads=%d,ctx=%d,vocab=%d,tied=%d,dropout=%s", s->layers,
                         s->d_model, s->heads, s->ctx, s->vocab, s->tied ? 1 : 0, drop);
        /* a pruned gpt's widths, only where they differ from the defaults */
        size_t o = n < 0 ? len : (size_t)n;
        if (o < len && s->ff && s->ff != 4 * s->d_model) o += (size_t)snprintf(buf + o, len - o, ",ff=%d", s->ff);
        if (o < len && s->head_dim && s->head_dim * s->heads != s->d_model)
            snprintf(buf + o, len - o, ",hd=%d", s->head_dim);
    } else {
        char hid[SW_MLP_MAX_HIDDEN * 12 + 1] = "";
        size_t o = 0;
        for (int i = 0; i < s->n_hidden && i < SW_MLP_MAX_HIDDEN; i++)
            o += (size_t)snprintf(hid + o, sizeof hid - o, "%s%d", i ? "x" : "", s->hidden[i]);
        snprintf(buf, len, "mlp:hidden=%s,act=%s,dropout=%s,inputs=%d,classes=%d", hid,
                 s->act == SW_ACTIVATION_GELU ? "gelu" : "relu", drop, s->n_inputs, s->n_classes);
    }
    return buf;
}

sw_status sw_model_spec_check(const sw_model_spec *s, sw_error *err)
{
    if (!s) return sw_error_set(err, SW_ERR_INVALID, "model spec: NULL");
    if (!(s->dropout >= 0.0f && s->dropout < 1.0f))
        return sw_error_set(err, SW_ERR_INVALID, "model spec: dropout %g is not in [0, 1)", (double)s->dropout);
    if (s->kind == SW_MODEL_GPT) {
        if (s->layers < 1 || s->layers > MAX_LAYERS)
            return sw_error_set(err, SW_ERR_INVALID, "gpt spec: layers=%d (expected 1..%d)", s->layers, MAX_LAYERS);
        if (s->d_model < 1 || s->d_model > MAX_D)
            return sw_error_set(err, SW_ERR_INVALID, "gpt spec: d=%d (expected 1..%d)", s->d_model, MAX_D);
        if (s->heads < 1 || s->heads > MAX_D || (!s->head_dim && s->d_model % s->heads != 0))
            return sw_error_set(err, SW_ERR_INVALID, "gpt spec: heads=%d (expected a divisor of d=%d, or hd= given)",
                                s->heads, s->d_model);
        if (s->head_dim < 0 || s->head_dim > MAX_D || (long)s->heads * (s->head_dim ? s->head_dim : 1) > MAX_D)
            return sw_error_set(err, SW_ERR_INVALID, "gpt spec: hd=%d with heads=%d (expected heads x hd <= %d)",
                                s->head_dim, s->heads, MAX_D);
        if (s->ff < 0 || s->ff > 4 * MAX_D)
            return sw_error_set(err, SW_ERR_INVALID, "gpt spec: ff=%d (expected 1..%d, or 0 for 4d)", s->ff, 4 * MAX_D);
        if (s->ctx < 1 || s->ctx > SW_ATT_MAX_T)
            return sw_error_set(err, SW_ERR_INVALID, "gpt spec: ctx=%d (expected 1..%d, filled in from the data)",
                                s->ctx, SW_ATT_MAX_T);
        if (s->vocab < 1 || s->vocab > MAX_VOCAB)
            return sw_error_set(err, SW_ERR_INVALID, "gpt spec: vocab=%d (expected 1..%d, filled in from the data)",
                                s->vocab, MAX_VOCAB);
        if (s->tied != 0 && s->tied != 1)
            return sw_error_set(err, SW_ERR_INVALID, "gpt spec: tied=%d (expected 0 or 1)", s->tied);
        return SW_OK;
    }
    if (s->kind == SW_MODEL_MLP) {
        if (s->n_inputs < 1 || s->n_inputs > MAX_WIDTH)
            return sw_error_set(err, SW_ERR_INVALID, "mlp spec: inputs=%d (expected 1..%d, filled in from the data)",
                                s->n_inputs, MAX_WIDTH);
        if (s->n_classes < 2 || s->n_classes > MAX_WIDTH)
            return sw_error_set(err, SW_ERR_INVALID, "mlp spec: classes=%d (expected 2..%d, filled in from the data)",
                                s->n_classes, MAX_WIDTH);
        if (s->n_hidden < 0 || s->n_hidden > SW_MLP_MAX_HIDDEN)
            return sw_error_set(err, SW_ERR_INVALID, "mlp spec: %d hidden layers (expected 0..%d)", s->n_hidden,
                                SW_MLP_MAX_HIDDEN);
        for (int i = 0; i < s->n_hidden; i++)
            if (s->hidden[i] < 1 || s->hidden[i] > MAX_WIDTH)
                return sw_error_set(err, SW_ERR_INVALID, "mlp spec: hidden width %d is %d (expected 1..%d)", i,
                                    s->hidden[i], MAX_WIDTH);
        if (s->act != SW_ACTIVATION_RELU && s->act != SW_ACTIVATION_GELU)
            return sw_error_set(err, SW_ERR_INVALID, "mlp spec: act=%d (expected relu or gelu)", (int)s->act);
        return SW_OK;
    }
    return sw_error_set(err, SW_ERR_INVALID, "model spec: kind %d (expected gpt or mlp)", (int)s->kind);
}
