/* Learning curves: columns of evaluations, read from and written to CSV with
 * columns by header name (stopwise's own format; other tools' CSVs are
 * curve_read.c's). Every error names the file, the line and what was
 * expected. */
#include "stop/curve_csv.h"
#include "stop/internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sw_column {
    char *name;
    double *v;              /* cap entries */
    unsigned char *present; /* cap entries */
} sw_column;

struct sw_curve {
    char source[1024];
    size_t n, cap;
    uint64_t *tokens;
    int64_t *steps;
    double *walls;
    size_t n_cols, cap_cols;
    sw_column *cols;
};

sw_status sw_curve_create(sw_curve **out, sw_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return sw_error_set(err, SW_ERR_NOMEM, "curve: out of memory");
    return SW_OK;
}

void sw_curve_free(sw_curve *c)
{
    if (!c) return;
    for (size_t k = 0; k < c->n_cols; k++) {
        free(c->cols[k].name);
        free(c->cols[k].v);
        free(c->cols[k].present);
    }
    free(c->cols);
    free(c->tokens);
    free(c->steps);
    free(c->walls);
    free(c);
}

static int grow_rows(sw_curve *c, size_t need)
{
    if (need <= c->cap) return 1;
    size_t nc = sw_array_grown_cap(c->cap, need);
    /* every array is valid at its own size; the shared capacity moves last */
    if (SW_ARRAY_RESIZE(c->tokens, nc) || SW_ARRAY_RESIZE(c->steps, nc) || SW_ARRAY_RESIZE(c->walls, nc)) return 0;
    for (size_t k = 0; k < c->n_cols; k++)
        if (SW_ARRAY_RESIZE(c->cols[k].v, nc) || SW_ARRAY_RESIZE(c->cols[k].present, nc)) return 0;
    c->cap = nc;
    return 1;
}

static long find_col(const sw_curve *c, const char *name)
{
    for (size_t k = 0; k < c->n_cols; k++)
        if (!strcmp(c->cols[k].name, name)) return (long)k;
    return -1;
}

/* Adds a metric column, missing in every existing row. */
static long add_col(sw_curve *c, const char *name)
{
    if (SW_ARRAY_RESERVE(c->cols, c->cap_cols, c->n_cols + 1)) return -1;
    sw_column *col = &c->cols[c->n_cols];
    size_t cap = c->cap ? c->cap : 1;
    col->name = strdup(name);
    col->v = malloc(cap * sizeof *col->v);
    col->present = calloc(cap, 1);
    if (!col->name || !col->v || !col->present) {
        free(col->name);
        free(col->v);
        free(col->present);
        return -1;
    }
    for (size_t i = 0; i < c->n; i++) col->v[i] = NAN;
    return (long)c->n_cols++;
}

sw_status sw_curve_append(sw_curve *c, const sw_eval *ev, sw_error *err)
{
    if (c->n && ev->tokens <= c->tokens[c->n - 1])
        return sw_error_set(err, SW_ERR_INVALID, "curve: tokens %llu not above the previous evaluation's %llu",
                            (unsigned long long)ev->tokens, (unsigned long long)c->tokens[c->n - 1]);
    for (size_t m = 0; m < ev->n_metrics; m++) {
        const char *name = ev->metrics[m].name;
        if (!name || !*name || strchr(name, ',') || strchr(name, '\n') || !strcmp(name, "tokens") ||
            !strcmp(name, "step") || !strcmp(name, "wall"))
            return sw_error_set(err, SW_ERR_INVALID, "curve: bad metric name '%s'", name ? name : "(null)");
        if (find_col(c, name) < 0 && add_col(c, name) < 0) return sw_error_set(err, SW_ERR_NOMEM, "curve: out of memory");
    }
    if (!grow_rows(c, c->n + 1)) return sw_error_set(err, SW_ERR_NOMEM, "curve: out of memory");
    size_t i = c->n;
    c->tokens[i] = ev->tokens;
    c->steps[i] = ev->step;
    c->walls[i] = ev->wall;
    for (size_t k = 0; k < c->n_cols; k++) {
        c->cols[k].v[i] = NAN;
        c->cols[k].present[i] = 0;
    }
    for (size_t m = 0; m < ev->n_metrics; m++) {
        long k = find_col(c, ev->metrics[m].name);
        c->cols[k].v[i] = ev->metrics[m].value;
        c->cols[k].present[i] = 1;
    }
    c->n++;
    return SW_OK;
}

/* ---- CSV ------------------------------------------------------------------------ */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = 0;
    return s;
}

/* Splits line in place at commas; returns the cell count (at most max). */
static size_t split_cells(char *line, char **cells, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        if (n < max) cells[n] = trim(p);
        n++;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

#define CSV_MAX_COLS 256

sw_status sw_curve_parse_native(const char *text, size_t len, const char *name, sw_curve **out, sw_error *err)
{
    *out = NULL;
    if (!name) name = "(memory)";
    char *buf = malloc(len + 1);
    if (!buf) return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
    memcpy(buf, text, len);
    buf[len] = 0;
    if (memchr(buf, 0, len)) {
        free(buf);
        return sw_error_set(err, SW_ERR_FORMAT, "%s: a NUL byte; expected CSV text", name);
    }
    size_t rows = 0;
    for (size_t i = 0; i < len; i++) rows += buf[i] == '\n';
    sw_curve *c;
    sw_status st = sw_curve_create(&c, err);
    if (st) {
        free(buf);
        return st;
    }
    snprintf(c->source, sizeof c->source, "%s", name);
    char *cells[CSV_MAX_COLS];
    int role[CSV_MAX_COLS]; /* -1 tokens, -2 step, -3 wall, else metric column */
    size_t ncells = 0;
    size_t lineno = 0;
    int have_header = 0;
    char *p = buf;
    while (p && *p) {
        char *line = p;
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        p = nl ? nl + 1 : NULL;
        lineno++;
        char *t = trim(line);
        if (!*t) continue; /* blank lines are allowed */
        if (strchr(t, '"')) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: quoted cells are not supported; expected plain numbers and names", name, lineno);
            goto fail;
        }
        if (!have_header) {
            ncells = split_cells(t, cells, CSV_MAX_COLS);
            if (ncells > CSV_MAX_COLS) {
                st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: %zu columns; at most %d", name, lineno, ncells, CSV_MAX_COLS);
                goto fail;
            }
            int have_tokens = 0;
            for (size_t k = 0; k < ncells; k++) {
                if (!*cells[k]) {
                    st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: column %zu has no name in the header", name, lineno, k + 1);
                    goto fail;
                }
                for (size_t q = 0; q < k; q++)
                    if (!strcmp(cells[q], cells[k])) {
                        st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: column '%s' appears twice in the header", name, lineno, cells[k]);
                        goto fail;
                    }
                if (!strcmp(cells[k], "tokens")) role[k] = -1, have_tokens = 1;
                else if (!strcmp(cells[k], "step")) role[k] = -2;
                else if (!strcmp(cells[k], "wall")) role[k] = -3;
                else {
                    long col = add_col(c, cells[k]);
                    if (col < 0) {
                        st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
                        goto fail;
                    }
                    role[k] = (int)col;
                }
            }
            if (!have_tokens) {
                st = sw_error_set(err, SW_ERR_FORMAT,
                                  "%s:%zu: no 'tokens' column; expected a header naming columns such as "
                                  "tokens,step,wall,val_em,val_loss,train_loss", name, lineno);
                goto fail;
            }
            if (!grow_rows(c, rows + 1)) {
                st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
                goto fail;
            }
            have_header = 1;
            continue;
        }
        char *rc[CSV_MAX_COLS];
        size_t nr = split_cells(t, rc, CSV_MAX_COLS);
        if (nr != ncells) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: %zu cells; expected %zu as in the header", name, lineno, nr, ncells);
            goto fail;
        }
        size_t i = c->n;
        c->steps[i] = -1;
        c->walls[i] = NAN;
        for (size_t k = 0; k < c->n_cols; k++) c->cols[k].v[i] = NAN, c->cols[k].present[i] = 0;
        for (size_t k = 0; k < nr; k++) {
            const char *cell = rc[k];
            if (role[k] == -1) {
                uint64_t tk;
                if (sw_parse_tokens(cell, &tk) != SW_OK) {
                    st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: tokens '%s' is not a token count (a whole number >= 0)", name, lineno, cell);
                    goto fail;
                }
                if (i && tk <= c->tokens[i - 1]) {
                    st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: tokens %llu not above the previous row's %llu (tokens must rise)",
                                      name, lineno, (unsigned long long)tk, (unsigned long long)c->tokens[i - 1]);
                    goto fail;
                }
                c->tokens[i] = tk;
            } else if (role[k] == -2) {
                long long s;
                if (*cell && sw_parse_int(cell, 0, INT64_MAX, &s) != SW_OK) {
                    st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: step '%s' is not a whole number >= 0", name, lineno, cell);
                    goto fail;
                }
                if (*cell) c->steps[i] = s;
            } else {
                if (!*cell) continue; /* missing */
                char *end;
                errno = 0;
                double v = sw_strtod(cell, &end);
                if (end == cell || *end) {
                    st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: column '%s': '%s' is not a number", name, lineno,
                                      role[k] == -3 ? "wall" : c->cols[role[k]].name, cell);
                    goto fail;
                }
                if (role[k] == -3) c->walls[i] = v;
                else c->cols[role[k]].v[i] = v, c->cols[role[k]].present[i] = 1;
            }
        }
        c->n++;
    }
    if (!have_header) {
        st = sw_error_set(err, SW_ERR_FORMAT, "%s:1: empty file; expected a header line such as tokens,val_em,val_loss,train_loss", name);
        goto fail;
    }
    free(buf);
    *out = c;
    return SW_OK;
fail:
    free(buf);
    sw_curve_free(c);
    return st;
}

sw_status sw_curve_put_column(sw_curve *c, const char *name, const double *v, const unsigned char *present)
{
    long k = find_col(c, name);
    if (k < 0 && (k = add_col(c, name)) < 0) return SW_ERR_NOMEM;
    for (size_t i = 0; i < c->n; i++) {
        c->cols[k].v[i] = present[i] ? v[i] : NAN;
        c->cols[k].present[i] = present[i] != 0;
    }
    return SW_OK;
}

void sw_curve_set_source(sw_curve *c, const char *name) { snprintf(c->source, sizeof c->source, "%s", name ? name : ""); }

sw_status sw_curve_write_csv(const sw_curve *c, const char *path, sw_error *err)
{
    sw_atomic_file af;
    sw_status st = sw_atomic_file_open(&af, path, err);
    if (st) return st;
    FILE *f = sw_atomic_file_fp(&af);
    fprintf(f, "tokens,step,wall");
    for (size_t k = 0; k < c->n_cols; k++) fprintf(f, ",%s", c->cols[k].name);
    fputc('\n', f);
    for (size_t i = 0; i < c->n; i++) {
        fprintf(f, "%llu,", (unsigned long long)c->tokens[i]);
        if (c->steps[i] >= 0) fprintf(f, "%lld", (long long)c->steps[i]);
        fputc(',', f);
        char num[32];
        if (!isnan(c->walls[i])) fputs(sw_format_double(c->walls[i], num, sizeof num), f);
        for (size_t k = 0; k < c->n_cols; k++) {
            fputc(',', f);
            if (c->cols[k].present[i]) fputs(sw_format_double(c->cols[k].v[i], num, sizeof num), f);
        }
        fputc('\n', f);
    }
    return sw_atomic_file_commit(&af, err);
}

sw_status sw_curve_require(const sw_curve *c, const char *column, const char *why, sw_error *err)
{
    if (find_col(c, column) >= 0) return SW_OK;
    return sw_error_set(err, SW_ERR_FORMAT, "%s:1: no column '%s'%s%s%s", c->source[0] ? c->source : "(curve)", column,
                        why ? " (" : "", why ? why : "", why ? ")" : "");
}

size_t sw_curve_len(const sw_curve *c) { return c->n; }
const uint64_t *sw_curve_tokens(const sw_curve *c) { return c->tokens; }
const int64_t *sw_curve_steps(const sw_curve *c) { return c->steps; }
const double *sw_curve_walls(const sw_curve *c) { return c->walls; }
size_t sw_curve_n_columns(const sw_curve *c) { return c->n_cols; }
const char *sw_curve_column_name(const sw_curve *c, size_t i) { return i < c->n_cols ? c->cols[i].name : NULL; }
const char *sw_curve_source(const sw_curve *c) { return c->source; }

const double *sw_curve_column(const sw_curve *c, const char *name, const unsigned char **present)
{
    long k = find_col(c, name);
    if (k < 0) {
        if (present) *present = NULL;
        return NULL;
    }
    if (present) *present = c->cols[k].present;
    return c->cols[k].v;
}
