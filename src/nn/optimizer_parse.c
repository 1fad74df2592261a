/* The optimizer's text form: "adamw:beta2=0.99,wd=0.1,clip=1", "sgd:momentum=0.9,nesterov=1". */
#include "stopwise/nn.h"

#include <string.h>

#include "nn/kvtext.h"
#include "nn/optimizer_check.h"

static const char *const adamw_keys = "beta1, beta2, eps, wd, l2, l1, clip";
static const char *const sgd_keys = "momentum, nesterov, wd, l2, l1, clip";

/* The float field a key names for this kind, or NULL. */
static float *field_of(sw_optimizer_params *p, const char *key)
{
    int adam = p->kind == SW_OPTIMIZER_ADAMW;
    if (adam && !strcmp(key, "beta1")) return &p->beta1;
    if (adam && !strcmp(key, "beta2")) return &p->beta2;
    if (adam && !strcmp(key, "eps")) return &p->eps;
    if (!adam && !strcmp(key, "momentum")) return &p->momentum;
    if (!strcmp(key, "wd")) return &p->weight_decay;
    if (!strcmp(key, "l2")) return &p->l2;
    if (!strcmp(key, "l1")) return &p->l1;
    if (!strcmp(key, "clip")) return &p->clip;
    return NULL;
}

sw_status sw_optimizer_params_parse(const char *text, sw_optimizer_params *out, sw_error *err)
{
    if (!text || !out) return sw_error_set(err, SW_ERR_INVALID, "optimizer: no text given");
    char kind[16], key[32], value[64], item[96];
    const char *opts;
    if (sw_kv_kind(text, kind, sizeof kind, &opts) < 0 || (strcmp(kind, "adamw") && strcmp(kind, "sgd")))
        return sw_error_set(err, SW_ERR_INVALID, "optimizer '%s': unknown kind '%.*s' (expected adamw or sgd)", text,
                            (int)strcspn(text, ":"), text);
    sw_optimizer_params p = sw_optimizer_default_params(!strcmp(kind, "adamw") ? SW_OPTIMIZER_ADAMW : SW_OPTIMIZER_SGD);
    const char *keys = p.kind == SW_OPTIMIZER_ADAMW ? adamw_keys : sgd_keys;
    if (opts[-1] == ':' && !*opts)
        return sw_error_set(err, SW_ERR_INVALID, "optimizer '%s': nothing after ':' (expected key=value, keys: %s)",
                            text, keys);
    int r;
    while ((r = sw_kv_next(&opts, key, sizeof key, value, sizeof value, item, sizeof item)) != 0) {
        if (r < 0)
            return sw_error_set(err, SW_ERR_INVALID, "optimizer '%s': bad item '%s' (expected key=value, keys: %s)",
                                text, item, keys);
        if (p.kind == SW_OPTIMIZER_SGD && !strcmp(key, "nesterov")) {
            if (strcmp(value, "0") && strcmp(value, "1"))
                return sw_error_set(err, SW_ERR_INVALID, "optimizer '%s': nesterov=%s (expected 0 or 1)", text, value);
            p.nesterov = value[0] == '1';
            continue;
        }
        float *f = field_of(&p, key);
        if (!f)
            return sw_error_set(err, SW_ERR_INVALID, "optimizer '%s': unknown key '%s' for %s (keys: %s)", text, key,
                                kind, keys);
        double d;
        if (sw_parse_double(value, &d) != SW_OK)
            return sw_error_set(err, SW_ERR_INVALID, "optimizer '%s': %s=%s is not a number", text, key, value);
        *f = (float)d;
    }
    /* The same range checks as sw_optimizer_create, reported with the text. */
    sw_error e;
    sw_status st = sw_optimizer_params_check(&p, &e);
    if (st) return sw_error_set(err, st, "optimizer '%s': %s", text, e.msg + strlen("optimizer: "));
    *out = p;
    return SW_OK;
}
