/* Generic sequence loaders: TSV (input<TAB>target) and JSON Lines
 * ({"input": "...", "target": "..." or ["...", ...]}). Several lines with the
 * same input are several references of one example. Blank lines are skipped;
 * a UTF-8 byte order mark and CRLF line ends are accepted. */
#include "data/internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t') return 0;
    return 1;
}

sw_status sw_load_tsv(sw_dataset *ds, const char *path, const sw_data_options *opt, sw_error *err)
{
    char *buf;
    size_t len;
    sw_status st = sw_file_read(path, &buf, &len, err);
    if (st) return st;
    sw_seq_raw raw = {0};
    raw.arena = &ds->arena;
    sw_lines it = {buf, len, 0, 0};
    const char *line;
    size_t n;
    while (!st && sw_lines_next(&it, &line, &n)) {
        if (blank(line, n)) continue;
        const char *tab = memchr(line, '\t', n);
        if (memchr(line, 0, n))
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected text, got a NUL byte", path, it.lineno);
        else if (!tab)
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected input<TAB>target, got a line without a tab", path,
                              it.lineno);
        else if (memchr(tab + 1, '\t', n - (size_t)(tab + 1 - line)))
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected input<TAB>target, got more than one tab", path,
                              it.lineno);
        else if (tab == line)
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected a non-empty input before the tab", path, it.lineno);
        else if (blank(tab + 1, n - (size_t)(tab + 1 - line)))
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected a non-empty target after the tab", path,
                              it.lineno);
        else
            st = sw_seq_raw_add(&raw, line, (size_t)(tab - line), tab + 1, n - (size_t)(tab + 1 - line),
                                (uint32_t)it.lineno, err);
    }
    free(buf);
    if (!st) st = sw_seq_finish(ds, &raw, opt, path, err);
    sw_seq_raw_free(&raw);
    return st;
}

static sw_status jsonl_target(sw_seq_raw *raw, const char *path, size_t lineno, const char *in, size_t in_len,
                              json_t *t, const char *where, sw_error *err)
{
    int top = strcmp(where, "\"target\"") == 0;
    if (!json_is_string(t))
        return sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected %s to be a string%s", path, lineno, where,
                            top ? " or an array of strings" : "");
    const char *s = json_string_value(t);
    size_t n = json_string_length(t);
    if (blank(s, n)) return sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected %s to be non-empty", path, lineno, where);
    if (strlen(s) != n)
        return sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected %s without NUL characters", path, lineno, where);
    return sw_seq_raw_add(raw, in, in_len, s, n, (uint32_t)lineno, err);
}

sw_status sw_load_jsonl(sw_dataset *ds, const char *path, const sw_data_options *opt, sw_error *err)
{
    char *buf;
    size_t len;
    sw_status st = sw_file_read(path, &buf, &len, err);
    if (st) return st;
    sw_seq_raw raw = {0};
    raw.arena = &ds->arena;
    sw_lines it = {buf, len, 0, 0};
    const char *line;
    size_t n;
    while (!st && sw_lines_next(&it, &line, &n)) {
        if (blank(line, n)) continue;
        json_error_t je;
        json_t *o = json_loadb(line, n, 0, &je);
        if (!o) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected a JSON object, got invalid JSON at column %d: %s",
                              path, it.lineno, je.column, je.text);
            break;
        }
        json_t *in = json_object_get(o, "input"), *t = json_object_get(o, "target");
        if (!json_is_object(o))
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected a JSON object {\"input\":...,\"target\":...}", path,
                              it.lineno);
        else if (!json_is_string(in) || json_string_length(in) == 0 ||
                 strlen(json_string_value(in)) != json_string_length(in))
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected \"input\" to be a non-empty string", path,
                              it.lineno);
        else if (json_is_array(t)) {
            if (json_array_size(t) == 0)
                st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected \"target\" to hold at least one string", path,
                                  it.lineno);
            for (size_t j = 0; !st && j < json_array_size(t); j++)
                st = jsonl_target(&raw, path, it.lineno, json_string_value(in), json_string_length(in),
                                  json_array_get(t, j), "each element of \"target\"", err);
        } else if (!t)
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected a \"target\" field", path, it.lineno);
        else
            st = jsonl_target(&raw, path, it.lineno, json_string_value(in), json_string_length(in), t, "\"target\"", err);
        json_decref(o);
    }
    free(buf);
    if (!st) st = sw_seq_finish(ds, &raw, opt, path, err);
    sw_seq_raw_free(&raw);
    return st;
}
