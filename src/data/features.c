/* Feature (column) name lists: reading and writing them, and resolving a
 * selection against a CSV file's columns (docs/FEATURES.md). */
#include "data/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void sw_feature_list_free(sw_feature_list *l)
{
    if (!l) return;
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    free(l->lines);
    free(l->origin);
    free(l);
}

/* Appends names[n] = s[0..len) (trimmed) from `line` (0: inline). */
static sw_status add_name(sw_feature_list *l, size_t *cap, const char *s, size_t len, int line, sw_error *err)
{
    while (len && (*s == ' ' || *s == '\t')) s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    char where[64] = "";
    if (line) snprintf(where, sizeof where, ":%d", line);
    if (!len)
        return sw_error_set(err, SW_ERR_INVALID, "%s%s: expected a feature name, got an empty one (in \"%s\")",
                            l->origin, where, l->origin);
    for (int i = 0; i < l->n; i++)
        if (strlen(l->names[i]) == len && !memcmp(l->names[i], s, len)) {
            char first[64] = "";
            if (l->lines[i]) snprintf(first, sizeof first, " (first at line %d)", l->lines[i]);
            return sw_error_set(err, SW_ERR_INVALID, "%s%s: feature \"%.*s\" listed twice%s", l->origin, where, (int)len,
                                s, first);
        }
    if ((size_t)l->n == *cap) { /* two arrays, one capacity */
        size_t c = sw_array_grown_cap(*cap, (size_t)l->n + 1);
        if (sw_array_resize(&l->names, c, sizeof *l->names) || sw_array_resize(&l->lines, c, sizeof *l->lines))
            return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", l->origin);
        *cap = c;
    }
    if (!(l->names[l->n] = malloc(len + 1))) return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", l->origin);
    memcpy(l->names[l->n], s, len);
    l->names[l->n][len] = 0;
    l->lines[l->n++] = line;
    return SW_OK;
}

static sw_status read_names(sw_feature_list *l, const char *arg, int is_file, sw_error *err)
{
    size_t cap = 0;
    sw_status st = SW_OK;
    if (!is_file) {
        for (const char *p = arg;; p++) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if ((st = add_name(l, &cap, p, len, 0, err))) return st;
            if (!end) break;
            p = end;
        }
        return SW_OK;
    }
    char *buf;
    size_t len;
    if ((st = sw_file_read(arg, &buf, &len, err))) return st;
    sw_lines it = {buf, len, 0, 0};
    const char *line;
    size_t n;
    while (!st && sw_lines_next(&it, &line, &n)) {
        size_t b = 0;
        while (b < n && (line[b] == ' ' || line[b] == '\t')) b++;
        if (b == n || line[b] == '#') continue;
        if (memchr(line, 0, n)) st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected text, got a NUL byte", arg, it.lineno);
        else st = add_name(l, &cap, line, n, (int)it.lineno, err);
    }
    free(buf);
    if (!st && l->n == 0)
        st = sw_error_set(err, SW_ERR_INVALID, "%s: expected feature names, one a line; the file lists none", arg);
    return st;
}

sw_status sw_feature_list_read(const char *arg, sw_feature_list **out, sw_error *err)
{
    *out = NULL;
    if (!arg || !*arg) return sw_error_set(err, SW_ERR_INVALID, "--features: expected a file or comma-separated names");
    struct stat sb;
    int is_file = stat(arg, &sb) == 0 && S_ISREG(sb.st_mode);
    sw_feature_list *l = calloc(1, sizeof *l);
    if (!l || !(l->origin = strdup(is_file ? arg : "--features"))) {
        free(l);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    }
    sw_status st = read_names(l, arg, is_file, err);
    if (st) {
        sw_feature_list_free(l);
        return st;
    }
    *out = l;
    return SW_OK;
}

sw_status sw_feature_list_write(const char *path, const char *const *names, int n, const char *comment,
                                sw_error *err)
{
    for (int i = 0; i < n; i++)
        if (strpbrk(names[i], "\r\n") || !names[i][0] || names[i][0] == '#')
            return sw_error_set(err, SW_ERR_INVALID,
                                "%s: feature name \"%.40s\" cannot be written one a line (empty, a newline, or a "
                                "leading '#')",
                                path, names[i]);
    sw_atomic_file f;
    sw_status st = sw_atomic_file_open(&f, path, err);
    if (st) return st;
    FILE *fp = sw_atomic_file_fp(&f);
    if (comment) fprintf(fp, "# %s\n", comment);
    for (int i = 0; i < n; i++) fprintf(fp, "%s\n", names[i]);
    return sw_atomic_file_commit(&f, err);
}

const char *sw_dataset_feature_name(const sw_dataset *ds, int j)
{
    return ds && ds->fname && ds->kind == SW_TASK_CLASSIFY && j >= 0 && j < ds->nf ? ds->fname[j] : NULL;
}

/* "a, b, c" of the names, cut to about `len` bytes with the count. */
static void list_columns(const char *const *names, int nf, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int j = 0; j < nf && used < len; j++) {
        if (used + strlen(names[j]) + 24 > len) {
            snprintf(buf + used, len - used, "... (%d in all)", nf);
            return;
        }
        used += (size_t)snprintf(buf + used, len - used, "%s%s", j ? ", " : "", names[j]);
    }
}

sw_status sw_features_resolve(const sw_data_options *opt, const char *path, const char *const *names, int nf,
                              const char *label, int **pick, int *n, sw_error *err)
{
    *pick = NULL;
    *n = 0;
    const sw_feature_list *l = opt->features;
    int m;
    const char *origin;
    if (l) {
        m = l->n;
        origin = l->origin;
    } else if (opt->classes && sw_classes_feature_name(opt->classes, 0)) {
        m = sw_classes_num_features(opt->classes);
        origin = "the model's feature list";
    } else {
        return SW_OK;
    }
    if (m <= 0) return sw_error_set(err, SW_ERR_INVALID, "%s: no features selected", origin);
    uint8_t *taken = calloc((size_t)nf, 1);
    if (!taken) return sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", path);
    sw_status st = SW_OK;
    for (int i = 0; i < m && !st; i++) {
        const char *name = l ? l->names[i] : sw_classes_feature_name(opt->classes, i);
        char where[4200];
        if (l && l->lines[i]) snprintf(where, sizeof where, "%s:%d", origin, l->lines[i]);
        else snprintf(where, sizeof where, "%s", origin);
        int found = -1, count = 0;
        for (int j = 0; j < nf; j++)
            if (!strcmp(names[j], name)) {
                if (found < 0) found = j;
                count++;
            }
        if (found < 0 && label && !strcmp(label, name)) {
            st = sw_error_set(err, SW_ERR_INVALID, "%s: \"%s\" is the label column of %s; list feature columns only",
                              where, name, path);
        } else if (found < 0) {
            char cols[400];
            list_columns(names, nf, cols, sizeof cols);
            st = sw_error_set(err, SW_ERR_INVALID,
                              "%s: unknown feature \"%s\": %s has no feature column of that name (its columns: %s)",
                              where, name, path, cols);
        } else if (count > 1) {
            st = sw_error_set(err, SW_ERR_INVALID, "%s: feature \"%s\" names %d columns of %s; a selection needs unique names",
                              where, name, count, path);
        } else if (taken[found]) {
            st = sw_error_set(err, SW_ERR_INVALID, "%s: feature \"%s\" listed twice", where, name);
        }
        if (!st) taken[found] = 1;
    }
    if (!st && !(*pick = malloc((size_t)m * sizeof **pick))) st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", path);
    for (int j = 0; !st && j < nf; j++)
        if (taken[j]) (*pick)[(*n)++] = j; /* the file's column order */
    free(taken);
    return st;
}
