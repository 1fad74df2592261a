/* Reading a curve CSV of any format: which tool wrote it (from the header,
 * or as told), then stopwise's own parser (curve.c) or the foreign mapping
 * (curve_foreign.c). A stopwise curve read without options goes through
 * exactly the parser it always did. */
#include "stop/curve_csv.h"
#include "stop/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sw_curve_csv_options_default(sw_curve_csv_options *o)
{
    memset(o, 0, sizeof *o);
    o->scale = 1;
    o->target_maximize = 1;
}

static sw_status check_options(const sw_curve_csv_options *o, const char *name, sw_error *err)
{
    if ((unsigned)o->format > SW_CURVE_FORMAT_TENSORBOARD || (unsigned)o->x > SW_CURVE_AXIS_TOKENS)
        return sw_error_set(err, SW_ERR_INVALID, "%s: unknown format or x axis", name);
    if (!(o->scale == 0 || (isfinite(o->scale) && o->scale > 0)))
        return sw_error_set(err, SW_ERR_INVALID, "%s: scale %g: expected a positive number (--mode min turns a loss around)",
                            name, o->scale);
    if (o->mode < -1 || o->mode > 1) return sw_error_set(err, SW_ERR_INVALID, "%s: mode %d: expected 1, -1 or 0", name, o->mode);
    if (o->metric && !*o->metric) return sw_error_set(err, SW_ERR_INVALID, "%s: an empty metric name", name);
    if (o->target && (!*o->target || strpbrk(o->target, ",\"\n\r") || !strcmp(o->target, "tokens") ||
                      !strcmp(o->target, "step") || !strcmp(o->target, "wall")))
        return sw_error_set(err, SW_ERR_INVALID, "%s: target column '%s' cannot be a curve's metric", name, o->target);
    return SW_OK;
}

/* --metric, --mode and --scale on a stopwise curve: the target column
 * becomes the oriented, scaled metric. */
static sw_status map_native(sw_curve *c, const sw_curve_csv_options *o, const char *name, sw_curve_csv_info *info,
                            sw_error *err)
{
    const char *target = o->target ? o->target : "val_em";
    const char *metric = o->metric ? o->metric : target;
    int maximize = o->mode ? o->mode > 0 : sw_curve_metric_maximize(metric);
    double k = (maximize == (o->target_maximize != 0) ? 1 : -1) * (o->scale ? o->scale : 1);
    if (!strcmp(metric, target) && k == 1) return SW_OK; /* the column as it is */
    const unsigned char *present;
    const double *v = sw_curve_column(c, metric, &present);
    if (!v) {
        char cols[512] = "tokens, step, wall";
        for (size_t k = 0; k < sw_curve_n_columns(c); k++) {
            size_t l = strlen(cols);
            snprintf(cols + l, sizeof cols - l, ", %s", sw_curve_column_name(c, k));
        }
        return sw_error_set(err, SW_ERR_FORMAT, "%s:1: no column '%s' (--metric); columns: %s", name, metric, cols);
    }
    size_t n = sw_curve_len(c);
    double *w = malloc((n ? n : 1) * sizeof *w);
    unsigned char *p = malloc(n ? n : 1);
    if (!w || !p) {
        free(w);
        free(p);
        return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
    }
    info->metric_min = info->metric_max = NAN;
    for (size_t i = 0; i < n; i++) {
        w[i] = k * v[i];
        p[i] = present[i];
        if (present[i] && isfinite(v[i])) {
            if (isnan(info->metric_min) || v[i] < info->metric_min) info->metric_min = v[i];
            if (isnan(info->metric_max) || v[i] > info->metric_max) info->metric_max = v[i];
        }
    }
    sw_status st = sw_curve_put_column(c, target, w, p);
    free(w);
    free(p);
    if (st) return sw_error_set(err, st, "%s: out of memory", name);
    snprintf(info->metric, sizeof info->metric, "%s", metric);
    info->maximize = maximize;
    info->negated = k < 0;
    return SW_OK;
}

static sw_status read_native(const char *text, size_t len, const char *name, const sw_curve_csv_options *o,
                             sw_curve **out, sw_curve_csv_info *info, sw_error *err)
{
    if (o->x || o->x_column || o->tokens_per_step || o->source_run)
        return sw_error_set(err, SW_ERR_INVALID,
                            "%s: a stopwise curve counts its own tokens; --x, --x-column, --tokens-per-step and "
                            "--source-run apply to other tools' CSVs",
                            name);
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) text += 3, len -= 3; /* a UTF-8 byte order mark */
    sw_status st = sw_curve_parse_native(text, len, name, out, err);
    if (st) return st;
    memset(info, 0, sizeof *info);
    info->format = SW_CURVE_FORMAT_NATIVE;
    snprintf(info->target, sizeof info->target, "%s", o->target ? o->target : "val_em");
    snprintf(info->x_column, sizeof info->x_column, "tokens");
    info->x = SW_CURVE_AXIS_TOKENS;
    info->rows = sw_curve_len(*out);
    info->maximize = o->target_maximize != 0;
    info->metric_min = info->metric_max = NAN;
    if (o->metric || o->mode || (o->scale && o->scale != 1)) st = map_native(*out, o, name, info, err);
    if (st) {
        sw_curve_free(*out);
        *out = NULL;
    }
    return st;
}

sw_status sw_curve_parse_csv_with(const char *text, size_t len, const char *name, const sw_curve_csv_options *o,
                                  sw_curve **out, sw_curve_csv_info *info, sw_error *err)
{
    *out = NULL;
    if (!name) name = "(memory)";
    sw_curve_csv_options defaults;
    if (!o) sw_curve_csv_options_default(&defaults), o = &defaults;
    sw_curve_csv_info scratch;
    if (!info) info = &scratch;
    sw_status st = check_options(o, name, err);
    if (st) return st;
    sw_curve_format f = o->format;
    sw_csv_table t;
    if (f == SW_CURVE_FORMAT_AUTO) {
        /* a header the table reader refuses is no other tool's: stopwise's
         * own parser says what is wrong with it, as it always did */
        if (sw_csv_table_parse(text, len, name, 1, &t, NULL) != SW_OK) return read_native(text, len, name, o, out, info, err);
        st = t.n_cols ? sw_curve_format_detect(&t, name, &f, err) : SW_OK;
        if (!t.n_cols) f = SW_CURVE_FORMAT_NATIVE; /* empty: the native parser says so */
        sw_csv_table_clear(&t);
        if (st) return st;
    }
    if (f == SW_CURVE_FORMAT_NATIVE) return read_native(text, len, name, o, out, info, err);
    if ((st = sw_csv_table_parse(text, len, name, 0, &t, err))) return st;
    if (!t.n_cols) st = sw_error_set(err, SW_ERR_FORMAT, "%s:1: empty file; expected a header line", name);
    else st = sw_curve_from_table(&t, f, name, o, out, info, err);
    sw_csv_table_clear(&t);
    return st;
}

sw_status sw_curve_read_csv_with(const char *path, const sw_curve_csv_options *o, sw_curve **out,
                                 sw_curve_csv_info *info, sw_error *err)
{
    *out = NULL;
    char *buf;
    size_t n;
    sw_status st = sw_file_read(path, &buf, &n, err);
    if (st) return st;
    st = sw_curve_parse_csv_with(buf, n, path, o, out, info, err);
    free(buf);
    return st;
}

sw_status sw_curve_parse_csv(const char *text, size_t len, const char *name, sw_curve **out, sw_error *err)
{
    return sw_curve_parse_csv_with(text, len, name, NULL, out, NULL, err);
}

sw_status sw_curve_read_csv(const char *path, sw_curve **out, sw_error *err)
{
    return sw_curve_read_csv_with(path, NULL, out, NULL, err);
}
