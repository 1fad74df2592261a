/* The curve-reading options of replay, tune and runs import, and the notes
 * printed when a foreign curve's metric was turned around or looks like a
 * fraction where EM is in percent. */
#include "cli/curve_options.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {"format", "x", "x-column", "tokens-per-step", "metric", "mode", "scale",
                                    "source-run"};

int sw_cli_curve_options_given(const sw_cli_args *a)
{
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (sw_cli_given(a, names[i])) return 1;
    return 0;
}

int sw_cli_curve_options(const char *cmd, const sw_cli_args *a, sw_curve_csv_options *o)
{
    sw_curve_csv_options_default(o);
    const char *s = sw_cli_str(a, "format");
    if (s && sw_curve_format_parse(s, &o->format))
        return sw_cli_fail(cmd, 2, "--format expects auto, native, keras, lightning, mlflow, wandb or tensorboard, got '%s'", s);
    if ((s = sw_cli_str(a, "x")) && sw_cli_given(a, "x") && (sw_curve_axis_parse(s, &o->x) || o->x == SW_CURVE_AXIS_AUTO))
        return sw_cli_fail(cmd, 2, "--x expects step, epoch or tokens, got '%s'", s);
    o->x_column = sw_cli_str(a, "x-column");
    if (sw_cli_given(a, "tokens-per-step")) {
        o->tokens_per_step = sw_cli_tokens(a, "tokens-per-step");
        if (!o->tokens_per_step) return sw_cli_fail(cmd, 2, "--tokens-per-step must be at least 1");
    }
    o->metric = sw_cli_str(a, "metric");
    if ((s = sw_cli_str(a, "mode")) && sw_cli_given(a, "mode")) {
        if (!strcmp(s, "max")) o->mode = 1;
        else if (!strcmp(s, "min")) o->mode = -1;
        else return sw_cli_fail(cmd, 2, "--mode expects max or min, got '%s'", s);
    }
    o->scale = sw_cli_double(a, "scale");
    if (!(o->scale > 0)) return sw_cli_fail(cmd, 2, "--scale %g: expected a positive number (--mode min turns a loss around)", o->scale);
    o->source_run = sw_cli_str(a, "source-run");
    return -1;
}

sw_status sw_cli_curve_read(const char *cmd, const char *path, const sw_curve_csv_options *o, sw_cli_curve_notes *notes,
                            sw_curve **out, sw_curve_csv_info *info, sw_error *err)
{
    sw_curve_csv_info scratch;
    if (!info) info = &scratch;
    sw_status st = sw_curve_read_csv_with(path, o, out, info, err);
    if (st || !notes || !info->metric[0]) return st;
    if (info->negated && !notes->negated++)
        fprintf(stderr,
                "stopwise %s: note: %s: %s (mode %s) is read negated into %s, where larger is better: %s = -%s%s\n",
                cmd, path, info->metric, info->maximize ? "max" : "min", info->target, info->target, info->metric,
                strcmp(info->target, "val_em") ? "" : " (EM figures are in its units)");
    int unscaled = !o || o->scale == 0 || o->scale == 1;
    if (info->format != SW_CURVE_FORMAT_NATIVE && !info->negated && unscaled && !strcmp(info->target, "val_em") &&
        info->metric_min >= 0 && info->metric_max <= 1 && !notes->fraction++)
        fprintf(stderr,
                "stopwise %s: note: %s: %s lies in [0, 1] but val_em is EM in percent (epsilon and EM thresholds "
                "are in points); --scale 100 reads it as percent\n",
                cmd, path, info->metric);
    return SW_OK;
}
