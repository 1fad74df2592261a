/* Which tool wrote a curve CSV, from its header alone. Each format has a
 * signature (the columns its writer always puts there); a header that fits
 * exactly one is that format, and one that fits none or two is an error that
 * names the columns found and the --format that settles it. A header with a
 * tokens column in first place is always stopwise's own, as it always was. */
#include "stop/curve_csv.h"

#include <stdio.h>
#include <string.h>

static const char *const names[] = {"auto", "native", "keras", "lightning", "mlflow", "wandb", "tensorboard"};
#define N_FORMATS (sizeof names / sizeof *names)

/* What each format is, in messages. */
static const char *const described[] = {"",
                                        "a stopwise curve (tokens,step,wall,val_em,...)",
                                        "Keras CSVLogger (epoch first)",
                                        "Lightning CSVLogger (epoch and step)",
                                        "an MLflow metric history (key, value, step)",
                                        "a W&B export (_step, or Step and 'RUN - METRIC')",
                                        "TensorBoard scalars (Wall time,Step,Value)"};

const char *sw_curve_format_name(sw_curve_format f) { return (unsigned)f < N_FORMATS ? names[f] : "unknown"; }

sw_status sw_curve_format_parse(const char *name, sw_curve_format *out)
{
    for (size_t i = 0; name && i < N_FORMATS; i++)
        if (!strcmp(name, names[i])) {
            *out = (sw_curve_format)i;
            return SW_OK;
        }
    return SW_ERR_INVALID;
}

static const char *const axes[] = {"auto", "step", "epoch", "tokens"};

const char *sw_curve_axis_name(sw_curve_axis a) { return (unsigned)a < 4 ? axes[a] : "unknown"; }

sw_status sw_curve_axis_parse(const char *name, sw_curve_axis *out)
{
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, axes[i])) {
            *out = (sw_curve_axis)i;
            return SW_OK;
        }
    return SW_ERR_INVALID;
}

static int has(const sw_csv_table *t, const char *name) { return sw_csv_table_find(t, name) >= 0; }

int sw_curve_wandb_is_panel(const sw_csv_table *t)
{
    if (!has(t, "Step") || has(t, "_step")) return 0;
    for (size_t k = 0; k < t->n_cols; k++)
        if (strstr(t->names[k], " - ")) return 1;
    return 0;
}

/* 1 when the header carries format f's signature. */
static int fits(const sw_csv_table *t, sw_curve_format f)
{
    switch (f) {
    case SW_CURVE_FORMAT_KERAS: return t->n_cols && !strcmp(t->names[0], "epoch") && !has(t, "step");
    case SW_CURVE_FORMAT_LIGHTNING: return has(t, "epoch") && has(t, "step");
    case SW_CURVE_FORMAT_MLFLOW: return has(t, "key") && has(t, "value") && has(t, "step");
    case SW_CURVE_FORMAT_WANDB: return has(t, "_step") || sw_curve_wandb_is_panel(t);
    case SW_CURVE_FORMAT_TENSORBOARD: return t->n_cols == 3 && has(t, "Wall time") && has(t, "Step") && has(t, "Value");
    default: return 0;
    }
}

sw_status sw_curve_format_detect(const sw_csv_table *t, const char *name, sw_curve_format *out, sw_error *err)
{
    *out = SW_CURVE_FORMAT_AUTO;
    char cols[640];
    sw_csv_table_columns(t, cols, sizeof cols);
    int native = has(t, "tokens");
    if (native && !strcmp(t->names[0], "tokens")) { /* how stopwise writes it */
        *out = SW_CURVE_FORMAT_NATIVE;
        return SW_OK;
    }
    sw_curve_format found[N_FORMATS];
    size_t n = 0;
    if (native) found[n++] = SW_CURVE_FORMAT_NATIVE;
    for (int f = SW_CURVE_FORMAT_KERAS; f <= SW_CURVE_FORMAT_TENSORBOARD; f++)
        if (fits(t, (sw_curve_format)f)) found[n++] = (sw_curve_format)f;
    if (n == 1) {
        *out = found[0];
        return SW_OK;
    }
    if (n == 0)
        return sw_error_set(err, SW_ERR_FORMAT,
                            "%s:1: no 'tokens' column, and no other tool's header either (columns: %s); expected a "
                            "stopwise curve (tokens,step,wall,val_em,...) or the CSV of Keras CSVLogger (epoch "
                            "first), Lightning CSVLogger (epoch and step), MLflow (key, value, step), W&B (_step, or "
                            "Step and 'RUN - METRIC') or TensorBoard (Wall time,Step,Value); give --format NAME "
                            "to read it as one of them",
                            name, cols);
    return sw_error_set(err, SW_ERR_FORMAT,
                        "%s:1: ambiguous header: it fits both %s and %s (columns: %s); give --format %s or --format %s",
                        name, described[found[0]], described[found[1]], cols, names[found[0]], names[found[1]]);
}
