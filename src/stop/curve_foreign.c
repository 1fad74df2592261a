/* Another tool's CSV table as a stopwise curve (the mapping is specified in
 * stopwise/stop.h, "curves from other tools"). In three steps:
 *   1. a grid: the table's rows as they are (Keras, Lightning, W&B,
 *      TensorBoard: one row per logging call), or MLflow's one row per
 *      logged value pivoted to one row per step;
 *   2. the roles of the grid's columns: x, step, time, the metric, the other
 *      metrics, the ignored;
 *   3. the evaluations: rows of one x merged, those with the metric kept,
 *      x turned into tokens.
 * Every error names the file and the line of the cell at fault. */
#include "stop/curve_csv.h"
#include "stop/internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1. the grid ----------------------------------------------------------------- */

/* Text cells by row and column ("" or "NA": missing), each with its line. */
typedef struct grid {
    size_t n_rows, n_cols;
    const char **names;  /* n_cols */
    const char **cells;  /* n_rows * n_cols */
    const size_t *row_lines;   /* n_rows, when every cell of a row has its row's line */
    size_t *cell_lines;  /* n_rows * n_cols, else (MLflow) */
    size_t *dup_lines;   /* NULL, or n_rows * n_cols: the line of an earlier value at the same place (0: none) */
    int pivoted;         /* built from MLflow's long rows */
} grid;

static size_t cell_line(const grid *g, size_t i, size_t k)
{
    return g->cell_lines ? g->cell_lines[i * g->n_cols + k] : g->row_lines[i];
}

static const char *cell(const grid *g, size_t i, size_t k) { return g->cells[i * g->n_cols + k]; }

static int missing(const char *s) { return !*s || !strcmp(s, "NA"); } /* Keras writes NA for absent keys */

static void grid_free(grid *g)
{
    if (g->pivoted) {
        free(g->names);
        free(g->cells);
    }
    free(g->cell_lines);
    free(g->dup_lines);
    memset(g, 0, sizeof *g);
}

static void grid_of_table(const sw_csv_table *t, grid *g)
{
    memset(g, 0, sizeof *g);
    g->n_rows = t->n_rows;
    g->n_cols = t->n_cols;
    g->names = (const char **)t->names;
    g->cells = (const char **)t->cells;
    g->row_lines = t->lines;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* MLflow's rows (run_id, key, value, step, timestamp), one per logged value,
 * as one row per step (ascending) with columns step, timestamp and the keys
 * in the order first seen. Rows of other runs than source_run are left out;
 * several runs without a choice is an error naming them. */
static sw_status pivot_mlflow(const sw_csv_table *t, const char *name, const char *source_run, grid *g,
                              sw_error *err)
{
    memset(g, 0, sizeof *g);
    long ck = sw_csv_table_find(t, "key"), cv = sw_csv_table_find(t, "value"), cs = sw_csv_table_find(t, "step");
    long ct = sw_csv_table_find(t, "timestamp"), cr = sw_csv_table_find(t, "run_id");
    char cols[512];
    sw_csv_table_columns(t, cols, sizeof cols);
    /* the run: the one in the file, or the one asked for */
    const char *run = source_run;
    if (cr >= 0 && !run) {
        char runs[400] = "";
        size_t nr = 0;
        for (size_t i = 0; i < t->n_rows; i++) {
            const char *r = sw_csv_cell(t, i, (size_t)cr);
            if (run && !strcmp(run, r)) continue;
            if (!run) run = r;
            else if (!strstr(runs, r)) {
                nr++;
                size_t l = strlen(runs);
                snprintf(runs + l, sizeof runs - l, "%s%s", l ? ", " : "", r);
            }
        }
        if (nr)
            return sw_error_set(err, SW_ERR_FORMAT,
                                "%s:1: several runs in one file (run_id %s, %s); choose one with --source-run ID", name,
                                run, runs);
    } else if (cr < 0 && run) {
        return sw_error_set(err, SW_ERR_INVALID, "%s:1: --source-run %s, but the file has no run_id column (columns: %s)",
                            name, run, cols);
    }
    size_t n_keys = 0, n_steps = 0, n_sel = 0;
    const char **keys = malloc((t->n_rows + 1) * sizeof *keys);
    int64_t *steps = malloc((t->n_rows + 1) * sizeof *steps);
    int64_t *row_step = malloc((t->n_rows + 1) * sizeof *row_step);
    sw_status st = SW_OK;
    if (!keys || !steps || !row_step) {
        st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    for (size_t i = 0; i < t->n_rows; i++) {
        row_step[i] = -1;
        if (cr >= 0 && strcmp(sw_csv_cell(t, i, (size_t)cr), run)) continue;
        const char *k = sw_csv_cell(t, i, (size_t)ck), *s = sw_csv_cell(t, i, (size_t)cs);
        long long v;
        if (sw_parse_int(s, 0, INT64_MAX, &v) != SW_OK) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: step '%s' is not a whole number >= 0", name, t->lines[i], s);
            goto done;
        }
        if (!*k) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: an empty key; expected a metric name", name, t->lines[i]);
            goto done;
        }
        row_step[i] = v;
        steps[n_steps++] = v;
        n_sel++;
        /* step and timestamp are the grid's own columns; a key so named cannot be a third */
        if (!strcmp(k, "step") || !strcmp(k, "timestamp")) continue;
        size_t q = 0;
        while (q < n_keys && strcmp(keys[q], k)) q++;
        if (q == n_keys) keys[n_keys++] = k;
    }
    if (run && n_sel == 0) {
        st = sw_error_set(err, SW_ERR_INVALID, "%s:1: no row of run '%s' (--source-run)", name, run);
        goto done;
    }
    qsort(steps, n_steps, sizeof *steps, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < n_steps; i++)
        if (!u || steps[i] != steps[u - 1]) steps[u++] = steps[i];
    n_steps = u;
    g->pivoted = 1;
    g->n_rows = n_steps;
    g->n_cols = 2 + n_keys;
    size_t n_cells = (n_steps ? n_steps : 1) * g->n_cols;
    g->names = malloc(g->n_cols * sizeof *g->names);
    g->cells = malloc(n_cells * sizeof *g->cells);
    g->cell_lines = calloc(n_cells, sizeof *g->cell_lines);
    g->dup_lines = calloc(n_cells, sizeof *g->dup_lines);
    if (!g->names || !g->cells || !g->cell_lines || !g->dup_lines) {
        st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    g->names[0] = "step";
    g->names[1] = "timestamp";
    for (size_t q = 0; q < n_keys; q++) g->names[2 + q] = keys[q];
    for (size_t i = 0; i < n_cells; i++) g->cells[i] = "";
    for (size_t i = 0; i < t->n_rows; i++) {
        if (row_step[i] < 0) continue;
        int64_t *at = bsearch(&row_step[i], steps, n_steps, sizeof *steps, cmp_i64);
        size_t r = (size_t)(at - steps), base = r * g->n_cols;
        if (!*g->cells[base]) { /* the step's first row gives its step and time */
            g->cells[base] = sw_csv_cell(t, i, (size_t)cs);
            g->cell_lines[base] = t->lines[i];
            g->cells[base + 1] = ct >= 0 ? sw_csv_cell(t, i, (size_t)ct) : "";
            g->cell_lines[base + 1] = t->lines[i];
        }
        const char *k = sw_csv_cell(t, i, (size_t)ck);
        size_t q = 0;
        while (q < n_keys && strcmp(keys[q], k)) q++;
        if (q == n_keys) continue;
        size_t at_cell = base + 2 + q;
        if (g->cell_lines[at_cell]) g->dup_lines[at_cell] = g->cell_lines[at_cell];
        g->cells[at_cell] = sw_csv_cell(t, i, (size_t)cv);
        g->cell_lines[at_cell] = t->lines[i];
    }
done:
    free(keys);
    free(steps);
    free(row_step);
    if (st) grid_free(g);
    return st;
}

/* ---- 2. roles -------------------------------------------------------------------------- */

static long find(const grid *g, const char *name)
{
    for (size_t k = 0; k < g->n_cols; k++)
        if (!strcmp(g->names[k], name)) return (long)k;
    return -1;
}

static void columns_text(const grid *g, char *buf, size_t cap)
{
    sw_csv_table t = {.n_cols = g->n_cols, .names = (char **)g->names};
    sw_csv_table_columns(&t, buf, cap);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int sw_curve_is_accuracy_name(const char *name)
{
    static const char *const prefixes[] = {"validation", "valid", "eval", "val"};
    static const char *const words[] = {"exact_match", "accuracy", "acc", "em"};
    char low[256];
    size_t n = strlen(name);
    if (n >= sizeof low) return 0;
    for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)name[i]);
    if (ends_with(low, "_epoch")) low[n - 6] = 0;
    for (size_t p = 0; p < 4; p++) {
        size_t lp = strlen(prefixes[p]);
        if (strncmp(low, prefixes[p], lp) || !strchr("_/.-", low[lp]) || !low[lp]) continue;
        for (size_t w = 0; w < 4; w++)
            if (!strcmp(low + lp + 1, words[w])) return 1;
    }
    return 0;
}

int sw_curve_metric_maximize(const char *name)
{
    size_t n = strlen(name);
    if (n < 4) return 1;
    for (size_t i = 0; i < 4; i++)
        if (tolower((unsigned char)name[n - 4 + i]) != "loss"[i]) return 1;
    return 0;
}

/* The name a W&B panel column reads as: "RUN - METRIC" -> METRIC. */
static const char *panel_metric(const char *col)
{
    const char *d = strstr(col, " - ");
    return d ? d + 3 : col;
}

static int panel_run_is(const char *col, const char *run)
{
    size_t n = strlen(run);
    return !strncmp(col, run, n) && !strncmp(col + n, " - ", 3);
}

/* A name a stopwise curve CSV can hold (the native reader trims cells and
 * refuses quotes; tokens, step and wall are its own columns). */
static int storable(const char *s)
{
    size_t n = strlen(s);
    return n && n < SW_METRIC_NAME_MAX * 4 && !strpbrk(s, ",\"\n\r") && !isspace((unsigned char)s[0]) &&
           !isspace((unsigned char)s[n - 1]) && strcmp(s, "tokens") && strcmp(s, "step") && strcmp(s, "wall");
}

enum { ROLE_VALUE, ROLE_IGNORE, ROLE_X, ROLE_STEP, ROLE_WALL };
enum { WALL_NONE, WALL_SECONDS, WALL_UNIX_S, WALL_UNIX_MS };

/* What each column of the grid is, and how x and time are read. */
typedef struct roles {
    long x, step, wall, metric;
    int wall_kind;
    double epoch_offset;
    sw_curve_axis axis;
    int panel;
    int *role;            /* n_cols */
    char **out_name;      /* n_cols: the curve column a value column fills (NULL: none) */
    size_t *bad_line;     /* n_cols: the first cell that is not a number (0: all are) */
    const char **bad_text;
} roles;

static void roles_free(roles *r, size_t n_cols)
{
    if (r->out_name)
        for (size_t k = 0; k < n_cols; k++) free(r->out_name[k]);
    free(r->out_name);
    free(r->role);
    free(r->bad_line);
    free(r->bad_text);
}

/* The x column for the axis asked (or the format's own). */
static sw_status choose_x(const grid *g, sw_curve_format f, const char *name, const sw_curve_csv_options *o,
                          roles *r, sw_error *err)
{
    char cols[512];
    columns_text(g, cols, sizeof cols);
    r->axis = o->x ? o->x : f == SW_CURVE_FORMAT_KERAS ? SW_CURVE_AXIS_EPOCH : SW_CURVE_AXIS_STEP;
    r->epoch_offset = 0;
    if (o->tokens_per_step && r->axis == SW_CURVE_AXIS_TOKENS)
        return sw_error_set(err, SW_ERR_INVALID, "%s: --tokens-per-step applies to --x step or epoch, not tokens", name);
    if (o->x_column) {
        if ((r->x = find(g, o->x_column)) < 0)
            return sw_error_set(err, SW_ERR_FORMAT, "%s:1: no column '%s' (--x-column); columns: %s", name, o->x_column,
                                cols);
        return SW_OK;
    }
    const char *want[3] = {NULL, NULL, NULL};
    switch (r->axis) {
    case SW_CURVE_AXIS_TOKENS: want[0] = "tokens"; break;
    case SW_CURVE_AXIS_EPOCH:
        want[0] = "epoch";
        if (f == SW_CURVE_FORMAT_WANDB) want[1] = "train/epoch";
        if (f == SW_CURVE_FORMAT_KERAS || f == SW_CURVE_FORMAT_LIGHTNING) r->epoch_offset = 1;
        break;
    default:
        if (f == SW_CURVE_FORMAT_TENSORBOARD || (f == SW_CURVE_FORMAT_WANDB && r->panel)) want[0] = "Step";
        else if (f == SW_CURVE_FORMAT_WANDB) want[0] = "_step";
        else if (f != SW_CURVE_FORMAT_KERAS) want[0] = "step";
        break;
    }
    for (int i = 0; want[i]; i++)
        if ((r->x = find(g, want[i])) >= 0) return SW_OK;
    if (f == SW_CURVE_FORMAT_KERAS && r->axis == SW_CURVE_AXIS_STEP)
        return sw_error_set(err, SW_ERR_FORMAT,
                            "%s:1: Keras CSVLogger writes one row per epoch and no step column (columns: %s); use "
                            "--x epoch with --tokens-per-step N (tokens per epoch), or --x-column NAME",
                            name, cols);
    return sw_error_set(err, SW_ERR_FORMAT, "%s:1: no %s column for --x %s (columns: %s); name the column with --x-column NAME",
                        name, want[0] ? want[0] : "x", sw_curve_axis_name(r->axis), cols);
}

/* Names that are an axis or a clock in one tool's CSV or another: never a metric. */
static int axis_like(const char *n)
{
    static const char *const axes_[] = {"epoch", "step", "Step", "_step", "_runtime", "_timestamp",
                                        "timestamp", "Wall time", "tokens", ""};
    for (size_t i = 0; i < sizeof axes_ / sizeof *axes_; i++)
        if (!strcmp(n, axes_[i])) return 1;
    return 0;
}

static sw_status assign_roles(const grid *g, sw_curve_format f, const char *name, const sw_curve_csv_options *o,
                              roles *r, sw_error *err)
{
    r->role = calloc(g->n_cols + 1, sizeof *r->role);
    r->out_name = calloc(g->n_cols + 1, sizeof *r->out_name);
    r->bad_line = calloc(g->n_cols + 1, sizeof *r->bad_line);
    r->bad_text = calloc(g->n_cols + 1, sizeof *r->bad_text);
    if (!r->role || !r->out_name || !r->bad_line || !r->bad_text)
        return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
    r->panel = f == SW_CURVE_FORMAT_WANDB && find(g, "_step") < 0;
    sw_status st = choose_x(g, f, name, o, r, err);
    if (st) return st;
    /* the step the tool recorded, and its clock */
    r->step = f == SW_CURVE_FORMAT_TENSORBOARD || r->panel ? find(g, "Step")
              : f == SW_CURVE_FORMAT_WANDB                ? find(g, "_step")
              : f == SW_CURVE_FORMAT_KERAS                ? -1
                                                          : find(g, "step");
    r->wall_kind = WALL_NONE;
    r->wall = -1;
    if (f == SW_CURVE_FORMAT_TENSORBOARD) r->wall = find(g, "Wall time"), r->wall_kind = WALL_UNIX_S;
    if (f == SW_CURVE_FORMAT_MLFLOW) r->wall = find(g, "timestamp"), r->wall_kind = WALL_UNIX_MS;
    if (f == SW_CURVE_FORMAT_WANDB && !r->panel) r->wall = find(g, "_runtime"), r->wall_kind = WALL_SECONDS;
    if (r->wall < 0) r->wall_kind = WALL_NONE;
    for (size_t k = 0; k < g->n_cols; k++) {
        const char *n = g->names[k];
        int ignore = axis_like(n) || (r->panel && (ends_with(n, "__MIN") || ends_with(n, "__MAX"))) ||
                     (f == SW_CURVE_FORMAT_TENSORBOARD && strcmp(n, "Value")) ||
                     (r->panel && o->source_run && !panel_run_is(n, o->source_run));
        r->role[k] = ignore ? ROLE_IGNORE : ROLE_VALUE;
    }
    r->role[r->x] = ROLE_X;
    if (r->step >= 0 && r->step != r->x) r->role[r->step] = ROLE_STEP;
    if (r->wall >= 0 && r->wall != r->x) r->role[r->wall] = ROLE_WALL;
    /* which value columns hold numbers only */
    for (size_t i = 0; i < g->n_rows; i++)
        for (size_t k = 0; k < g->n_cols; k++) {
            const char *s = cell(g, i, k);
            if (r->role[k] != ROLE_VALUE || r->bad_line[k] || missing(s)) continue;
            char *end;
            sw_strtod(s, &end);
            if (end == s || *end) r->bad_line[k] = cell_line(g, i, k), r->bad_text[k] = s;
        }
    return SW_OK;
}

/* The metric: --metric, else the one validation-accuracy column. */
static sw_status choose_metric(const grid *g, sw_curve_format f, const char *name, const sw_curve_csv_options *o,
                               roles *r, sw_error *err)
{
    char cols[512], cand[400] = "";
    columns_text(g, cols, sizeof cols);
    size_t n = 0;
    r->metric = -1;
    for (size_t k = 0; k < g->n_cols; k++) {
        if (r->role[k] != ROLE_VALUE) continue;
        const char *nm = g->names[k];
        int hit;
        if (o->metric) /* exactly, or a panel's METRIC part */
            hit = !strcmp(nm, o->metric) || (r->panel && !strcmp(panel_metric(nm), o->metric));
        else
            hit = !r->bad_line[k] &&
                  (f == SW_CURVE_FORMAT_TENSORBOARD || sw_curve_is_accuracy_name(r->panel ? panel_metric(nm) : nm));
        if (!hit) continue;
        if (o->metric && !strcmp(nm, o->metric)) { /* an exact name wins */
            r->metric = (long)k;
            n = 1;
            break;
        }
        if (!n) r->metric = (long)k;
        size_t l = strlen(cand);
        snprintf(cand + l, sizeof cand - l, "%s'%s'", l ? ", " : "", nm);
        n++;
    }
    if (n == 1 && r->bad_line[r->metric])
        return sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: column '%s': '%s' is not a number", name,
                            r->bad_line[r->metric], g->names[r->metric], r->bad_text[r->metric]);
    if (n == 1) return SW_OK;
    const char *fix = r->panel ? "choose one with --metric 'RUN - METRIC' or --source-run RUN"
                               : "choose one with --metric NAME (and --mode min for a loss)";
    if (n > 1)
        return sw_error_set(err, SW_ERR_FORMAT, "%s:1: several columns could be the metric: %s (columns: %s); %s",
                            name, cand, cols, fix);
    if (o->metric)
        return sw_error_set(err, SW_ERR_FORMAT, "%s:1: no column '%s' (--metric); columns: %s", name, o->metric, cols);
    return sw_error_set(err, SW_ERR_FORMAT,
                        "%s:1: no validation accuracy column (such as val_acc, val_accuracy, val_em, eval/accuracy) "
                        "to read as the metric (columns: %s); name it with --metric NAME (and --mode min for a loss)",
                        name, cols);
}

/* The curve column each value column fills: the metric's target and its own
 * name, the others their own (a panel's METRIC part; Keras's loss as
 * train_loss), each name once. */
static sw_status name_outputs(const grid *g, sw_curve_format f, const char *name, const char *target, roles *r,
                              sw_error *err)
{
    if (r->panel) { /* the metric's run only */
        const char *m = g->names[r->metric];
        size_t run_len = (size_t)(panel_metric(m) - m);
        for (size_t k = 0; k < g->n_cols; k++)
            if (r->role[k] == ROLE_VALUE && run_len && strncmp(g->names[k], m, run_len)) r->role[k] = ROLE_IGNORE;
    }
    int has_train_loss = find(g, "train_loss") >= 0;
    for (size_t k = 0; k < g->n_cols; k++) {
        if (r->role[k] != ROLE_VALUE || r->bad_line[k]) continue;
        const char *out = r->panel ? panel_metric(g->names[k]) : g->names[k];
        if (f == SW_CURVE_FORMAT_KERAS && !strcmp(out, "loss") && !has_train_loss) out = "train_loss";
        if (!storable(out) || !strcmp(out, target)) continue;
        int taken = 0;
        for (size_t q = 0; q < k && !taken; q++) taken = r->out_name[q] && !strcmp(r->out_name[q], out);
        if (taken) continue;
        if (!(r->out_name[k] = strdup(out))) return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
    }
    return SW_OK;
}

/* ---- 3. evaluations -------------------------------------------------------------------- */

/* The evaluation being gathered from rows of one x. */
typedef struct pending {
    int open, has_metric;
    double x;
    const char *x_text;
    size_t x_line, metric_line;
    int64_t step;
    double wall;
    double *v;              /* n_cols */
    unsigned char *has;     /* n_cols */
} pending;

typedef struct builder {
    const grid *g;
    const roles *r;
    const char *name;
    const char *target;
    double sign_scale;      /* target = sign_scale * metric */
    uint64_t per_step;
    double wall0;           /* the file's first time (WALL_UNIX_*) */
    sw_curve *c;
    sw_metric *m;           /* n_cols + 1 */
    uint64_t last_tokens;
    size_t last_line, n;
    double vmin, vmax;
    sw_error *err;
} builder;

static double wall_seconds(const builder *b, double t)
{
    switch (b->r->wall_kind) {
    case WALL_SECONDS: return t;
    case WALL_UNIX_S: return t - b->wall0;
    case WALL_UNIX_MS: return (t - b->wall0) / 1000;
    default: return NAN;
    }
}

/* Emits the gathered evaluation if it has the metric. */
static sw_status flush(builder *b, pending *p)
{
    if (!p->open || !p->has_metric) return SW_OK;
    const roles *r = b->r;
    double tk;
    if (r->axis == SW_CURVE_AXIS_TOKENS) {
        if (p->x != floor(p->x) || p->x >= 1.8e19)
            return sw_error_set(b->err, SW_ERR_FORMAT, "%s:%zu: %s '%s' is not a token count (a whole number >= 0)",
                                b->name, p->x_line, b->g->names[r->x], p->x_text);
        tk = p->x;
    } else {
        tk = nearbyint((p->x + r->epoch_offset) * (double)b->per_step);
        if (!(tk < 1.8e19))
            return sw_error_set(b->err, SW_ERR_FORMAT, "%s:%zu: %s %g x %llu tokens is too many", b->name, p->x_line,
                                b->g->names[r->x], p->x, (unsigned long long)b->per_step);
    }
    uint64_t tokens = (uint64_t)tk;
    if (b->n && tokens <= b->last_tokens)
        return sw_error_set(b->err, SW_ERR_FORMAT,
                            "%s:%zu: %s %g gives %llu tokens, not above the previous evaluation's %llu (line %zu); "
                            "tokens must rise: give --tokens-per-step N or --x with a finer column",
                            b->name, p->x_line, b->g->names[r->x], p->x, (unsigned long long)tokens,
                            (unsigned long long)b->last_tokens, b->last_line);
    size_t nm = 0;
    double mv = p->v[r->metric];
    b->m[nm++] = (sw_metric){b->target, b->sign_scale * mv};
    if (isfinite(mv)) {
        if (isnan(b->vmin) || mv < b->vmin) b->vmin = mv;
        if (isnan(b->vmax) || mv > b->vmax) b->vmax = mv;
    }
    for (size_t k = 0; k < b->g->n_cols; k++)
        if (r->out_name[k] && p->has[k]) b->m[nm++] = (sw_metric){r->out_name[k], p->v[k]};
    sw_eval ev = {.tokens = tokens, .step = p->step, .wall = p->wall, .metrics = b->m, .n_metrics = nm};
    sw_error ae;
    sw_status st = sw_curve_append(b->c, &ev, &ae);
    if (st) return sw_error_set(b->err, st, "%s:%zu: %s", b->name, p->metric_line, ae.msg);
    b->last_tokens = tokens;
    b->last_line = p->x_line;
    b->n++;
    return SW_OK;
}

/* Adds row i to the pending evaluation (a new one when x moved on). */
static sw_status take_row(builder *b, pending *p, size_t i)
{
    const grid *g = b->g;
    const roles *r = b->r;
    const char *xs = cell(g, i, (size_t)r->x);
    int has_metric = !missing(cell(g, i, (size_t)r->metric));
    size_t line = cell_line(g, i, (size_t)r->x);
    if (missing(xs)) {
        if (has_metric)
            return sw_error_set(b->err, SW_ERR_FORMAT, "%s:%zu: a value of %s but no %s (the cell is empty)", b->name,
                                cell_line(g, i, (size_t)r->metric), g->names[r->metric], g->names[r->x]);
        return SW_OK; /* a row that belongs to no x (W&B logs some keys alone) */
    }
    char *end;
    double x = sw_strtod(xs, &end);
    if (end == xs || *end || !(x >= 0) || !isfinite(x))
        return sw_error_set(b->err, SW_ERR_FORMAT, "%s:%zu: %s '%s' is not a number >= 0", b->name, line,
                            g->names[r->x], xs);
    if (p->open && x < p->x)
        return sw_error_set(b->err, SW_ERR_FORMAT,
                            "%s:%zu: %s %s falls below the previous row's %g (line %zu); x must never fall (was a "
                            "resumed run appended to the file?)",
                            b->name, line, g->names[r->x], xs, p->x, p->x_line);
    if (!p->open || x > p->x) {
        sw_status st = flush(b, p);
        if (st) return st;
        p->open = 1, p->has_metric = 0, p->x = x, p->x_text = xs, p->x_line = line, p->step = -1, p->wall = NAN;
        memset(p->has, 0, g->n_cols);
    }
    if (has_metric && p->has_metric)
        return sw_error_set(b->err, SW_ERR_FORMAT, "%s:%zu: a second value of %s at %s %g (the first at line %zu); one "
                            "evaluation per x expected: give --x with a finer column",
                            b->name, cell_line(g, i, (size_t)r->metric), g->names[r->metric], g->names[r->x], x,
                            p->metric_line);
    if (has_metric && g->dup_lines && g->dup_lines[i * g->n_cols + (size_t)r->metric])
        return sw_error_set(b->err, SW_ERR_FORMAT, "%s:%zu: a second value of %s at %s %g (the first at line %zu)",
                            b->name, cell_line(g, i, (size_t)r->metric), g->names[r->metric], g->names[r->x], x,
                            g->dup_lines[i * g->n_cols + (size_t)r->metric]);
    for (size_t k = 0; k < g->n_cols; k++) {
        const char *s = cell(g, i, k);
        if (missing(s) || r->bad_line[k]) continue;
        if (r->role[k] == ROLE_VALUE) {
            p->v[k] = sw_strtod(s, NULL);
            p->has[k] = 1;
        }
    }
    /* step and time: the metric's row decides; before it, the latest row */
    if (has_metric || !p->has_metric) {
        long long sv;
        if (r->step >= 0 && sw_parse_int(cell(g, i, (size_t)r->step), 0, INT64_MAX, &sv) == SW_OK) p->step = sv;
        if (r->wall >= 0 && !missing(cell(g, i, (size_t)r->wall))) {
            double t = sw_strtod(cell(g, i, (size_t)r->wall), &end);
            if (!*end) p->wall = wall_seconds(b, t);
        }
    }
    if (has_metric) p->has_metric = 1, p->metric_line = cell_line(g, i, (size_t)r->metric);
    return SW_OK;
}

sw_status sw_curve_from_table(const sw_csv_table *t, sw_curve_format f, const char *name,
                              const sw_curve_csv_options *o, sw_curve **out, sw_curve_csv_info *info, sw_error *err)
{
    *out = NULL;
    grid g;
    sw_status st;
    if (f == SW_CURVE_FORMAT_MLFLOW) {
        if ((st = pivot_mlflow(t, name, o->source_run, &g, err))) return st;
    } else {
        grid_of_table(t, &g);
        if (o->source_run && !sw_curve_wandb_is_panel(t)) {
            grid_free(&g);
            return sw_error_set(err, SW_ERR_INVALID,
                                "%s: --source-run applies to files that hold several runs (MLflow, W&B panels)", name);
        }
    }
    roles r;
    memset(&r, 0, sizeof r);
    const char *target = o->target ? o->target : "val_em";
    builder b = {.g = &g, .r = &r, .name = name, .target = target, .err = err, .vmin = NAN, .vmax = NAN};
    pending p = {0};
    if ((st = assign_roles(&g, f, name, o, &r, err)) || (st = choose_metric(&g, f, name, o, &r, err)) ||
        (st = name_outputs(&g, f, name, target, &r, err)))
        goto done;
    int maximize = o->mode ? o->mode > 0 : sw_curve_metric_maximize(r.panel ? panel_metric(g.names[r.metric])
                                                                             : g.names[r.metric]);
    double scale = o->scale ? o->scale : 1;
    b.sign_scale = (maximize == (o->target_maximize != 0) ? 1 : -1) * scale;
    b.per_step = o->tokens_per_step ? o->tokens_per_step : 1;
    b.wall0 = INFINITY;
    if (r.wall_kind == WALL_UNIX_S || r.wall_kind == WALL_UNIX_MS)
        for (size_t i = 0; i < g.n_rows; i++) {
            char *end;
            const char *s = cell(&g, i, (size_t)r.wall);
            double w = sw_strtod(s, &end);
            if (end != s && !*end && w < b.wall0) b.wall0 = w;
        }
    p.v = calloc(g.n_cols + 1, sizeof *p.v);
    p.has = calloc(g.n_cols + 1, 1);
    b.m = calloc(g.n_cols + 1, sizeof *b.m);
    if (!p.v || !p.has || !b.m || (st = sw_curve_create(&b.c, err))) {
        if (!st) st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    sw_curve_set_source(b.c, name);
    for (size_t i = 0; i < g.n_rows && !st; i++) st = take_row(&b, &p, i);
    if (!st) st = flush(&b, &p);
    if (!st && b.n == 0)
        st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: column '%s' has no value in any row with a %s; expected one "
                          "per evaluation",
                          name, t->n_rows ? t->lines[0] : (size_t)2, g.names[r.metric], g.names[r.x]);
    if (!st && info) {
        memset(info, 0, sizeof *info);
        info->format = f;
        snprintf(info->metric, sizeof info->metric, "%s", g.names[r.metric]);
        snprintf(info->target, sizeof info->target, "%s", target);
        info->maximize = maximize;
        info->negated = b.sign_scale < 0;
        snprintf(info->x_column, sizeof info->x_column, "%s", g.names[r.x]);
        info->x = r.axis;
        info->rows = t->n_rows;
        info->metric_min = b.vmin;
        info->metric_max = b.vmax;
    }
done:
    if (st) sw_curve_free(b.c);
    else *out = b.c;
    free(p.v);
    free(p.has);
    free(b.m);
    roles_free(&r, g.n_cols);
    grid_free(&g);
    return st;
}
