/* CSV classification data: comma-separated numeric features and one label
 * column (by header name or 0-based index; default the last column). Fields
 * may be "quoted" ("" is a quote inside); spaces around fields are ignored.
 * A header is auto-detected: the first line is one when a field other than
 * the label is not a number. Classes are the distinct label texts, ordered
 * numerically when all are integers, else bytewise; so the same file gives
 * the same class ids. Label bytes that are not UTF-8 are read as Latin-1
 * characters (as data.h says of inputs), so the class list's JSON holds them.
 * Feature columns are named by the header (colN without one); a selection
 * of them (data.h sw_data_options.features) keeps those columns alone, while
 * the split still hashes the whole row, so it is the same with or without.
 * Messages name file:line:column, columns 1-based. */
#include "data/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf;      /* unquoted fields, each NUL-terminated */
    size_t cap;
    size_t *start;
    int n;
    size_t capf;
} fields;

static void fields_free(fields *f)
{
    free(f->buf);
    free(f->start);
}

/* Splits a line; 1 ok, 0 an unterminated quote, -1 no memory. */
static int split_fields(const char *s, size_t n, fields *f)
{
    if (f->cap < n + 1) {
        free(f->buf);
        f->cap = n + 1;
        if (!(f->buf = malloc(f->cap))) return -1;
    }
    f->n = 0;
    size_t i = 0, k = 0;
    for (;;) {
        if (SW_ARRAY_RESERVE(f->start, f->capf, (size_t)f->n + 1)) return -1;
        f->start[f->n++] = k;
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i < n && s[i] == '"') {
            i++;
            for (;;) {
                if (i >= n) return 0;
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        f->buf[k++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                f->buf[k++] = s[i++];
            }
            while (i < n && s[i] != ',') i++; /* tolerate spaces after the quote */
        } else {
            size_t b = k;
            while (i < n && s[i] != ',') f->buf[k++] = s[i++];
            while (k > b && (f->buf[k - 1] == ' ' || f->buf[k - 1] == '\t')) k--;
        }
        f->buf[k++] = 0;
        if (i >= n) return 1;
        i++; /* the comma */
    }
}

static const char *field(const fields *f, int j) { return f->buf + f->start[j]; }

static int is_number(const char *s)
{
    double v;
    return sw_parse_double(s, &v) == SW_OK;
}

typedef struct { const char *name; long long num; int is_int; int32_t tmp; } label_entry;

static int label_cmp(const void *a, const void *b)
{
    const label_entry *x = a, *y = b;
    if (x->is_int && y->is_int && x->num != y->num) return x->num < y->num ? -1 : 1;
    return strcmp(x->name, y->name);
}

sw_status sw_load_csv(sw_dataset *ds, const char *path, const sw_data_options *opt, sw_error *err)
{
    char *buf;
    size_t len;
    sw_status st = sw_file_read(path, &buf, &len, err);
    if (st) return st;
    ds->kind = SW_TASK_CLASSIFY;
    fields f = {0};
    sw_strmap labels = {0};
    label_entry *lab = NULL;
    size_t nlab = 0, caplab = 0;
    float *feat = NULL;
    int32_t *y = NULL;
    uint32_t *src = NULL;
    uint64_t *keys = NULL;
    size_t rows = 0, caprows = 0;
    char *clean = NULL; /* the label being read, as valid UTF-8 */
    size_t clean_cap = 0;
    int ncol = -1, lc = -1, nf = 0;
    /* feature selection (features.c): nout columns kept, pick[] their positions
     * among the nf feature columns (NULL: all); row holds a whole row */
    const char **colnames = NULL;
    int *pick = NULL, nout = 0;
    float *row = NULL;
    sw_lines it = {buf, len, 0, 0};
    const char *line;
    size_t n;
    while (sw_lines_next(&it, &line, &n)) {
        size_t b = 0;
        while (b < n && (line[b] == ' ' || line[b] == '\t')) b++;
        if (b == n) continue;
        if (memchr(line, 0, n)) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected text, got a NUL byte", path, it.lineno);
            goto done;
        }
        int r = split_fields(line, n, &f);
        if (r < 0) goto nomem;
        if (r == 0) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected a closing '\"' in a quoted field", path, it.lineno);
            goto done;
        }
        if (ncol < 0) {
            /* the first line: resolve the label column and the header */
            ncol = f.n;
            if (ncol < 2) {
                st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected at least 2 comma-separated columns (features and a label), got 1",
                                  path, it.lineno);
                goto done;
            }
            long long li = -1;
            const char *want = opt->csv_label;
            int by_name = 0;
            if (!want) li = ncol - 1;
            else if (sw_parse_int(want, 0, 1 << 30, &li)) {
                li = -1;
                by_name = 1;
            }
            int has_header = opt->csv_header;
            if (has_header < 0) {
                has_header = by_name;
                for (int j = 0; j < ncol && !has_header; j++)
                    if (j != li && !is_number(field(&f, j))) has_header = 1;
            }
            if (has_header && want) {
                for (int j = 0; j < ncol; j++)
                    if (!strcmp(field(&f, j), want)) li = j;
            }
            if (li < 0 || li >= ncol) {
                st = sw_error_set(err, SW_ERR_INVALID,
                                  by_name ? "%s:%zu: expected a column named \"%s\" in the header (label column)"
                                          : "%s:%zu: label column %s is out of range (the file has %d columns)",
                                  path, it.lineno, want, ncol);
                goto done;
            }
            lc = (int)li;
            nf = ncol - 1;
            if (!(colnames = sw_arena_alloc(&ds->arena, (size_t)nf * sizeof *colnames)) ||
                !(row = malloc((size_t)nf * sizeof *row)))
                goto nomem;
            for (int j = 0, k = 0; j < ncol; j++) {
                char gen[32];
                snprintf(gen, sizeof gen, "col%d", j + 1);
                const char *nm = has_header ? field(&f, j) : gen;
                if (j != lc && !(colnames[k++] = sw_arena_strndup(&ds->arena, nm, strlen(nm)))) goto nomem;
            }
            if ((st = sw_features_resolve(opt, path, colnames, nf, has_header ? field(&f, lc) : NULL, &pick, &nout, err)))
                goto done;
            if (!pick) nout = nf;
            if (opt->classes && sw_classes_num_features(opt->classes) != nout) {
                st = sw_error_set(err, SW_ERR_INVALID, "%s: the model expects %d features, the file has %d%s", path,
                                  sw_classes_num_features(opt->classes), nout, pick ? " selected" : "");
                goto done;
            }
            if (has_header) continue;
        }
        if (f.n != ncol) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected %d comma-separated fields, got %d", path, it.lineno,
                              ncol, f.n);
            goto done;
        }
        if (rows == caprows) { /* four arrays, one row capacity; feat holds nout floats a row */
            size_t c = sw_array_grown_cap(caprows, rows + 1);
            if (sw_array_resize(&feat, c, (size_t)nout * sizeof *feat) || SW_ARRAY_RESIZE(y, c) ||
                SW_ARRAY_RESIZE(src, c) || SW_ARRAY_RESIZE(keys, c))
                goto nomem;
            caprows = c;
        }
        float *x = feat + rows * (size_t)nout;
        for (int j = 0, k = 0; j < ncol; j++) {
            if (j == lc) continue;
            double v;
            if (sw_parse_double(field(&f, j), &v)) {
                st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu:%d: expected a number (feature column %d), got \"%.40s\"",
                                  path, it.lineno, j + 1, j + 1, field(&f, j));
                goto done;
            }
            row[k++] = (float)v;
        }
        for (int k = 0; k < nout; k++) x[k] = row[pick ? pick[k] : k];
        /* the label as valid UTF-8, so that the class list's JSON holds it */
        size_t raw_len = strlen(field(&f, lc));
        if (2 * raw_len + 1 > clean_cap) {
            char *c = realloc(clean, 2 * raw_len + 1);
            if (!c) goto nomem;
            clean = c;
            clean_cap = 2 * raw_len + 1;
        }
        sw_utf8_clean(field(&f, lc), raw_len, clean);
        const char *lt = clean;
        if (!*lt) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu:%d: expected a label, got an empty field", path, it.lineno, lc + 1);
            goto done;
        }
        int32_t id;
        if (opt->classes) {
            id = sw_classes_find(opt->classes, lt);
            if (id < 0) {
                st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu:%d: expected one of the model's %d classes, got label \"%.40s\"",
                                  path, it.lineno, lc + 1, sw_classes_count(opt->classes), lt);
                goto done;
            }
        } else {
            id = sw_strmap_get(&labels, lt, strlen(lt));
            if (id < 0) {
                if (SW_ARRAY_RESERVE(lab, caplab, nlab + 1)) goto nomem;
                char *key = sw_arena_strndup(&ds->arena, lt, strlen(lt));
                if (!key || sw_strmap_put(&labels, key, strlen(key), (int32_t)nlab) < 0) goto nomem;
                long long num = 0;
                lab[nlab] = (label_entry){key, 0, sw_parse_int(key, -(1ll << 62), 1ll << 62, &num) == SW_OK, (int32_t)nlab};
                lab[nlab].num = num;
                id = (int32_t)nlab++;
            }
        }
        y[rows] = id;
        src[rows] = (uint32_t)it.lineno;
        keys[rows] = sw_fnv1a((const char *)row, (size_t)nf * sizeof *row); /* the whole row: the split ignores a selection */
        rows++;
    }
    if (rows == 0) {
        st = sw_error_set(err, SW_ERR_INVALID, "%s: empty dataset: no data rows", path);
        goto done;
    }
    if (opt->classes) {
        ds->classes = sw_classes_copy(opt->classes);
    } else {
        /* order classes: numerically if all integers, else bytewise */
        int all_int = 1;
        for (size_t i = 0; i < nlab; i++) all_int &= lab[i].is_int;
        if (!all_int)
            for (size_t i = 0; i < nlab; i++) lab[i].is_int = 0;
        qsort(lab, nlab, sizeof *lab, label_cmp);
        int32_t *remap = malloc(nlab * sizeof *remap);
        const char **names = malloc(nlab * sizeof *names);
        if (remap && names) {
            for (size_t i = 0; i < nlab; i++) {
                remap[lab[i].tmp] = (int32_t)i;
                names[i] = lab[i].name;
            }
            for (size_t i = 0; i < rows; i++) y[i] = remap[y[i]];
            ds->classes = sw_classes_new(nout, 1.0, names, (int)nlab);
        }
        free(remap);
        free(names);
    }
    if (!ds->classes) goto nomem;
    /* the kept columns' names; a class list trained on a selection carries them */
    if (!(ds->fname = sw_arena_alloc(&ds->arena, (size_t)nout * sizeof *ds->fname))) goto nomem;
    for (int k = 0; k < nout; k++) ds->fname[k] = colnames[pick ? pick[k] : k];
    if (pick && !sw_classes_feature_name(ds->classes, 0) &&
        (st = sw_classes_set_feature_names(ds->classes, ds->fname, err)))
        goto done;
    ds->feat = feat;
    ds->label = y;
    ds->src = src;
    ds->n_rows = rows;
    ds->nf = nout;
    feat = NULL;
    y = NULL;
    src = NULL;
    {
        double vf = opt->val_frac < 0 ? 0.05 : opt->val_frac;
        double tf = opt->test_frac < 0 ? 0.05 : opt->test_frac;
        st = sw_split_assign(ds, keys, rows, NULL, vf, tf, opt->max_examples, err);
    }
    goto done;
nomem:
    st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", path);
done:
    free(pick);
    free(row);
    free(clean);
    fields_free(&f);
    sw_strmap_free(&labels);
    free(lab);
    free(feat);
    free(y);
    free(src);
    free(keys);
    free(buf);
    return st;
}
