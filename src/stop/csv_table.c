/* Other tools' CSV files as a table of text cells. Python's csv module (which
 * Keras, Lightning, pandas and TensorBoard write with) quotes a cell only
 * when it must (RFC 4180: a comma, a quote or a line break inside, quotes
 * doubled), so quoted cells are read here; stopwise's own format never quotes
 * (curve.c). Every row remembers the line it starts on, for messages. */
#include "stop/curve_csv.h"
#include "stop/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sw_csv_table_clear(sw_csv_table *t)
{
    if (!t) return;
    free(t->buf);
    free(t->names);
    free(t->cells);
    free(t->lines);
    memset(t, 0, sizeof *t);
}

long sw_csv_table_find(const sw_csv_table *t, const char *name)
{
    for (size_t k = 0; k < t->n_cols; k++)
        if (!strcmp(t->names[k], name)) return (long)k;
    return -1;
}

const char *sw_csv_cell(const sw_csv_table *t, size_t row, size_t col) { return t->cells[row * t->n_cols + col]; }

void sw_csv_table_columns(const sw_csv_table *t, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t k = 0; k < t->n_cols; k++) {
        const char *name = t->names[k][0] ? t->names[k] : "(unnamed)";
        int w = snprintf(buf + len, cap - len, "%s%s", k ? ", " : "", name);
        if (w < 0 || (size_t)w >= cap - len) {
            /* cut at a whole name, leaving room for the ellipsis */
            if (cap >= 5) {
                while (len > 0 && len + 5 > cap) len--;
                snprintf(buf + len, cap - len, ", ...");
            }
            return;
        }
        len += (size_t)w;
    }
}

static char *trim(char *s, size_t *n)
{
    while (*n && (*s == ' ' || *s == '\t')) s++, (*n)--;
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t')) (*n)--;
    return s;
}

/* The parser's state: the input, the unescaped output and the cell list. */
typedef struct reader {
    const char *p, *end, *name;
    size_t line;
    char *out;          /* cells, NUL-terminated, one after another */
    size_t out_len;
    size_t *cell_off;   /* offsets of the current record's cells into out */
    size_t n_cell, cap_cell;
    sw_error *err;
} reader;

static sw_status add_cell(reader *r, size_t off)
{
    if (SW_ARRAY_RESERVE(r->cell_off, r->cap_cell, r->n_cell + 1))
        return sw_error_set(r->err, SW_ERR_NOMEM, "%s: out of memory", r->name);
    r->cell_off[r->n_cell++] = off;
    return SW_OK;
}

/* Reads one record (a line, or several when a quoted cell holds line breaks)
 * into r->cell_off; *blank is set for an empty line. */
static sw_status read_record(reader *r, int *blank)
{
    r->n_cell = 0;
    const char *eol = memchr(r->p, '\n', (size_t)(r->end - r->p));
    *blank = 1;
    for (const char *q = r->p; q < (eol ? eol : r->end) && *blank; q++) *blank = *q == ' ' || *q == '\t' || *q == '\r';
    if (*blank) {
        r->p = eol ? eol + 1 : r->end;
        return SW_OK;
    }
    for (;;) {
        /* one cell: skip leading blanks, then quoted or plain */
        while (r->p < r->end && (*r->p == ' ' || *r->p == '\t')) r->p++;
        size_t off = r->out_len;
        sw_status st = add_cell(r, off);
        if (st) return st;
        if (r->p < r->end && *r->p == '"') {
            size_t start_line = r->line;
            r->p++;
            for (;;) {
                if (r->p == r->end)
                    return sw_error_set(r->err, SW_ERR_FORMAT, "%s:%zu: a quoted cell is never closed; expected '\"'",
                                        r->name, start_line);
                char ch = *r->p++;
                if (ch == '"') {
                    if (r->p < r->end && *r->p == '"') {
                        r->out[r->out_len++] = '"';
                        r->p++;
                        continue;
                    }
                    break;
                }
                if (ch == '\n') r->line++;
                r->out[r->out_len++] = ch;
            }
            while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r')) r->p++;
            if (r->p < r->end && *r->p != ',' && *r->p != '\n')
                return sw_error_set(r->err, SW_ERR_FORMAT,
                                    "%s:%zu: text after a quoted cell; expected ',' or the end of the line", r->name,
                                    r->line);
        } else {
            const char *s = r->p;
            while (r->p < r->end && *r->p != ',' && *r->p != '\n') {
                if (*r->p == '"')
                    return sw_error_set(r->err, SW_ERR_FORMAT,
                                        "%s:%zu: a quote inside an unquoted cell; expected the whole cell quoted",
                                        r->name, r->line);
                r->p++;
            }
            size_t len = (size_t)(r->p - s);
            if (len && s[len - 1] == '\r') len--;
            char *c = trim((char *)s, &len);
            memcpy(r->out + r->out_len, c, len);
            r->out_len += len;
        }
        r->out[r->out_len++] = 0;
        if (r->p == r->end) return SW_OK;
        if (*r->p == '\n') {
            r->p++;
            return SW_OK;
        }
        r->p++; /* the comma */
    }
}

sw_status sw_csv_table_parse(const char *text, size_t len, const char *name, int header_only, sw_csv_table *t,
                             sw_error *err)
{
    memset(t, 0, sizeof *t);
    if (memchr(text, 0, len)) return sw_error_set(err, SW_ERR_FORMAT, "%s: a NUL byte; expected CSV text", name);
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) text += 3, len -= 3; /* a UTF-8 byte order mark */
    /* the unescaped cells never outgrow the text plus one NUL per cell */
    size_t cap = len + 1;
    for (size_t i = 0; i < len; i++) cap += text[i] == ',' || text[i] == '\n';
    reader r = {text, text + len, name, 1, malloc(cap), 0, NULL, 0, 0, err};
    if (!r.out) return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
    size_t *offs = NULL, n_offs = 0, cap_offs = 0; /* every row's cell offsets, row-major */
    size_t cap_rows = 0;
    sw_status st = SW_OK;
    while (r.p < r.end) {
        size_t line = r.line;
        int blank;
        if ((st = read_record(&r, &blank))) goto fail;
        r.line++;
        if (blank) continue;
        if (!t->n_cols && !n_offs) {
            t->n_cols = r.n_cell;
        } else if (r.n_cell != t->n_cols) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: %zu cells; expected %zu as in the header", name, line,
                              r.n_cell, t->n_cols);
            goto fail;
        } else {
            if (SW_ARRAY_RESERVE(t->lines, cap_rows, t->n_rows + 1)) goto nomem;
            t->lines[t->n_rows++] = line;
        }
        if (SW_ARRAY_RESERVE(offs, cap_offs, n_offs + r.n_cell)) goto nomem;
        memcpy(offs + n_offs, r.cell_off, r.n_cell * sizeof *offs);
        n_offs += r.n_cell;
        if (header_only) break;
    }
    t->buf = r.out;
    r.out = NULL;
    if (t->n_cols) {
        t->names = malloc(t->n_cols * sizeof *t->names);
        t->cells = malloc((t->n_rows ? t->n_rows : 1) * t->n_cols * sizeof *t->cells);
        if (!t->names || !t->cells) goto nomem;
        for (size_t k = 0; k < t->n_cols; k++) t->names[k] = t->buf + offs[k];
        for (size_t i = 0; i < t->n_rows * t->n_cols; i++) t->cells[i] = t->buf + offs[t->n_cols + i];
        for (size_t k = 0; k < t->n_cols; k++)
            for (size_t q = 0; q < k && t->names[k][0]; q++)
                if (!strcmp(t->names[q], t->names[k])) {
                    st = sw_error_set(err, SW_ERR_FORMAT, "%s:1: column '%s' appears twice in the header", name,
                                      t->names[k]);
                    goto fail;
                }
    }
    free(offs);
    free(r.cell_off);
    return SW_OK;
nomem:
    st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", name);
fail:
    free(r.out);
    free(r.cell_off);
    free(offs);
    sw_csv_table_clear(t);
    return st;
}
