/* The vocabulary of a sequence task: specials, input characters, target
 * symbols (disjoint id ranges), with encoding, decoding and a JSON form. */
#include "data/internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct sw_vocab {
    int n_in, n_tgt, spaced;
    char **sym;   /* (4 + n_in + n_tgt) pointers into block */
    char *block;
    sw_strmap in_map, tgt_map;
};

static const char *const specials[SW_TOKEN_FIRST] = {"<pad>", "<sep>", "<eos>", "<unk>"};

void sw_vocab_free(sw_vocab *v)
{
    if (!v) return;
    sw_strmap_free(&v->in_map);
    sw_strmap_free(&v->tgt_map);
    free(v->sym);
    free(v->block);
    free(v);
}

/* A vocabulary over the given symbols, in the given order; NULL on failure
 * (allocation, or a symbol repeated within its range). */
static sw_vocab *vocab_from_symbols(const char *const *in, int n_in, const char *const *tgt, int n_tgt, int spaced)
{
    sw_vocab *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->n_in = n_in;
    v->n_tgt = n_tgt;
    v->spaced = spaced;
    int total = SW_TOKEN_FIRST + n_in + n_tgt;
    size_t bytes = 0;
    for (int i = 0; i < SW_TOKEN_FIRST; i++) bytes += strlen(specials[i]) + 1;
    for (int i = 0; i < n_in; i++) bytes += strlen(in[i]) + 1;
    for (int i = 0; i < n_tgt; i++) bytes += strlen(tgt[i]) + 1;
    v->sym = malloc((size_t)total * sizeof *v->sym);
    v->block = malloc(bytes);
    if (!v->sym || !v->block) goto fail;
    char *p = v->block;
    for (int id = 0; id < total; id++) {
        const char *s = id < SW_TOKEN_FIRST ? specials[id]
                        : id < SW_TOKEN_FIRST + n_in ? in[id - SW_TOKEN_FIRST]
                                                     : tgt[id - SW_TOKEN_FIRST - n_in];
        size_t n = strlen(s);
        memcpy(p, s, n + 1);
        v->sym[id] = p;
        p += n + 1;
        if (id < SW_TOKEN_FIRST) continue;
        sw_strmap *m = id < SW_TOKEN_FIRST + n_in ? &v->in_map : &v->tgt_map;
        int32_t got = sw_strmap_put(m, v->sym[id], n, id);
        if (got != id) goto fail; /* duplicate or no memory */
    }
    return v;
fail:
    sw_vocab_free(v);
    return NULL;
}

sw_vocab *sw_vocab_new_empty(void) { return vocab_from_symbols(NULL, 0, NULL, 0, 0); }

sw_vocab *sw_vocab_copy(const sw_vocab *v)
{
    if (!v) return NULL;
    return vocab_from_symbols((const char *const *)v->sym + SW_TOKEN_FIRST, v->n_in,
                              (const char *const *)v->sym + SW_TOKEN_FIRST + v->n_in, v->n_tgt, v->spaced);
}

void sw_target_symbols(const char *text, int spaced, void (*f)(const char *, size_t, void *), void *ctx)
{
    size_t n = strlen(text);
    if (spaced) {
        size_t i = 0;
        while (i < n) {
            while (i < n && text[i] == ' ') i++;
            size_t j = i;
            while (j < n && text[j] != ' ') j++;
            if (j > i) f(text + i, j - i, ctx);
            i = j;
        }
        return;
    }
    size_t pos = 0;
    char sym[5];
    while (pos < n) {
        int k = sw_utf8_next(text, n, &pos, sym);
        f(sym, (size_t)k, ctx);
    }
}

/* ---- building from the training split ------------------------------------- */

typedef struct { sw_strmap set; sw_arena arena; int failed; } symset;

static void symset_add(const char *s, size_t n, void *ctx)
{
    symset *ss = ctx;
    if (ss->failed || sw_strmap_get(&ss->set, s, n) >= 0) return;
    char *k = sw_arena_strndup(&ss->arena, s, n);
    if (!k || sw_strmap_put(&ss->set, k, n, 0) < 0) ss->failed = 1;
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The set's keys, sorted bytewise (strcmp), in a malloc'd array. */
static const char **symset_sorted(const symset *ss)
{
    const char **out = malloc((ss->set.n ? ss->set.n : 1) * sizeof *out);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < ss->set.cap; i++)
        if (ss->set.key[i]) out[k++] = ss->set.key[i];
    qsort(out, k, sizeof *out, str_cmp);
    return out;
}

sw_vocab *sw_vocab_build(const char *const *inputs, size_t n_in, const char *const *targets, size_t n_tgt, int spaced)
{
    symset a = {0}, b = {0};
    for (size_t i = 0; i < n_in; i++) sw_target_symbols(inputs[i], 0, symset_add, &a);
    for (size_t i = 0; i < n_tgt; i++) sw_target_symbols(targets[i], spaced, symset_add, &b);
    sw_vocab *v = NULL;
    const char **sa = NULL, **sb = NULL;
    if (!a.failed && !b.failed && (sa = symset_sorted(&a)) && (sb = symset_sorted(&b)))
        v = vocab_from_symbols(sa, (int)a.set.n, sb, (int)b.set.n, spaced);
    free(sa);
    free(sb);
    sw_strmap_free(&a.set);
    sw_strmap_free(&b.set);
    sw_arena_free(&a.arena);
    sw_arena_free(&b.arena);
    return v;
}

/* ---- queries, encoding, decoding ------------------------------------------- */

int sw_vocab_size(const sw_vocab *v) { return v ? SW_TOKEN_FIRST + v->n_in + v->n_tgt : 0; }
int sw_vocab_num_input(const sw_vocab *v) { return v ? v->n_in : 0; }
int sw_vocab_num_target(const sw_vocab *v) { return v ? v->n_tgt : 0; }
int sw_vocab_first_target(const sw_vocab *v) { return v ? SW_TOKEN_FIRST + v->n_in : 0; }
int sw_vocab_target_spaced(const sw_vocab *v) { return v ? v->spaced : 0; }

int sw_vocab_is_target(const sw_vocab *v, int32_t id)
{
    return v && id >= SW_TOKEN_FIRST + v->n_in && id < sw_vocab_size(v);
}

const char *sw_vocab_symbol(const sw_vocab *v, int32_t id)
{
    if (!v || id < 0 || id >= sw_vocab_size(v)) return NULL;
    return v->sym[id];
}

typedef struct { const sw_strmap *m; int32_t *ids; int max, n, unk; } encoder;

static void encode_one(const char *s, size_t n, void *ctx)
{
    encoder *e = ctx;
    int32_t id = sw_strmap_get(e->m, s, n);
    if (id < 0) {
        id = SW_TOKEN_UNK;
        e->unk++;
    }
    if (e->n < e->max) e->ids[e->n] = id;
    e->n++;
}

int sw_vocab_encode_input(const sw_vocab *v, const char *text, int32_t *ids, int max, int *n_unknown)
{
    encoder e = {&v->in_map, ids, max, 0, 0};
    sw_target_symbols(text, 0, encode_one, &e);
    if (n_unknown) *n_unknown += e.unk;
    return e.n;
}

int sw_vocab_encode_target(const sw_vocab *v, const char *text, int32_t *ids, int max, int *n_unknown)
{
    encoder e = {&v->tgt_map, ids, max, 0, 0};
    sw_target_symbols(text, v->spaced, encode_one, &e);
    if (n_unknown) *n_unknown += e.unk;
    return e.n;
}

char *sw_vocab_decode_target(const sw_vocab *v, const int32_t *ids, int n, char *buf, size_t len)
{
    if (!len) return buf;
    size_t k = 0;
    int first = 1;
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id == SW_TOKEN_EOS) break;
        if (id == SW_TOKEN_PAD || id == SW_TOKEN_SEP) continue;
        const char *s = sw_vocab_symbol(v, id);
        if (!s) s = specials[SW_TOKEN_UNK];
        if (v->spaced && !first && k + 1 < len) buf[k++] = ' ';
        first = 0;
        size_t m = strlen(s);
        if (m > len - 1 - k) m = len - 1 - k;
        memcpy(buf + k, s, m);
        k += m;
        buf[k] = 0;
    }
    return buf;
}

/* ---- JSON -------------------------------------------------------------------- */

char *sw_vocab_to_json(const sw_vocab *v)
{
    if (!v) return NULL;
    json_t *o = json_object(), *in = json_array(), *tg = json_array();
    if (!o || !in || !tg) goto fail;
    for (int i = 0; i < v->n_in; i++) json_array_append_new(in, json_string(v->sym[SW_TOKEN_FIRST + i]));
    for (int i = 0; i < v->n_tgt; i++) json_array_append_new(tg, json_string(v->sym[SW_TOKEN_FIRST + v->n_in + i]));
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "target_mode", json_string(v->spaced ? "space" : "chars"));
    json_object_set_new(o, "input", in);
    json_object_set_new(o, "target", tg);
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    return s;
fail:
    json_decref(o);
    json_decref(in);
    json_decref(tg);
    return NULL;
}

/* The strings of a JSON array field, borrowed from the json value. */
static sw_status json_strings(json_t *o, const char *field, const char ***out, int *n, sw_error *err)
{
    json_t *a = json_object_get(o, field);
    if (!json_is_array(a))
        return sw_error_set(err, SW_ERR_FORMAT, "vocabulary: expected \"%s\" to be an array of strings", field);
    size_t k = json_array_size(a);
    const char **s = malloc((k ? k : 1) * sizeof *s);
    if (!s) return sw_error_set(err, SW_ERR_NOMEM, "vocabulary: out of memory");
    for (size_t i = 0; i < k; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_string(e) || json_string_length(e) == 0 ||
            strlen(json_string_value(e)) != json_string_length(e)) {
            free(s);
            return sw_error_set(err, SW_ERR_FORMAT, "vocabulary: \"%s\"[%zu]: expected a non-empty string", field, i);
        }
        s[i] = json_string_value(e);
    }
    *out = s;
    *n = (int)k;
    return SW_OK;
}

sw_status sw_vocab_from_json(const char *json, sw_vocab **out, sw_error *err)
{
    *out = NULL;
    if (!json) return sw_error_set(err, SW_ERR_INVALID, "vocabulary: no JSON");
    json_error_t je;
    json_t *o = json_loads(json, 0, &je);
    if (!o) return sw_error_set(err, SW_ERR_FORMAT, "vocabulary: invalid JSON at offset %d: %s", je.position, je.text);
    sw_status st = SW_OK;
    const char **in = NULL, **tg = NULL;
    int n_in = 0, n_tg = 0;
    json_t *ver = json_object_get(o, "version"), *mode = json_object_get(o, "target_mode");
    if (!json_is_object(o) || !json_is_integer(ver)) {
        st = sw_error_set(err, SW_ERR_FORMAT, "vocabulary: expected an object with an integer \"version\"");
        goto done;
    }
    if (json_integer_value(ver) != 1) {
        st = sw_error_set(err, SW_ERR_VERSION, "vocabulary: version %lld, expected 1",
                          (long long)json_integer_value(ver));
        goto done;
    }
    const char *m = json_string_value(mode);
    if (!m || (strcmp(m, "space") && strcmp(m, "chars"))) {
        st = sw_error_set(err, SW_ERR_FORMAT, "vocabulary: expected \"target_mode\" \"space\" or \"chars\"");
        goto done;
    }
    if ((st = json_strings(o, "input", &in, &n_in, err)) || (st = json_strings(o, "target", &tg, &n_tg, err)))
        goto done;
    int spaced = m[0] == 's';
    if (spaced)
        for (int i = 0; i < n_tg; i++)
            if (strchr(tg[i], ' ')) {
                st = sw_error_set(err, SW_ERR_FORMAT, "vocabulary: target[%d] contains a space in space mode", i);
                goto done;
            }
    if (n_in > (1 << 24) || n_tg > (1 << 24)) {
        st = sw_error_set(err, SW_ERR_FORMAT, "vocabulary: too many symbols");
        goto done;
    }
    *out = vocab_from_symbols(in, n_in, tg, n_tg, spaced);
    if (!*out) st = sw_error_set(err, SW_ERR_FORMAT, "vocabulary: a symbol is repeated (or out of memory)");
done:
    free(in);
    free(tg);
    json_decref(o);
    return st;
}
