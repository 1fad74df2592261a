/* Small building blocks of the loaders: a string arena, a string hash map,
 * UTF-8 characters, whole-file reads and a line iterator. */
#include "data/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena -------------------------------------------------------------------- */

struct sw_arena_block {
    sw_arena_block *next;
    size_t used, cap;
    /* max_align_t alignment for the data that follows */
    union { max_align_t align; char data[1]; } u;
};

void *sw_arena_alloc(sw_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    sw_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->u.data + b->used;
    b->used += n;
    return p;
}

char *sw_arena_strndup(sw_arena *a, const char *s, size_t n)
{
    char *p = sw_arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void sw_arena_free(sw_arena *a)
{
    while (a->head) {
        sw_arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* ---- string map (open addressing, linear probing, load <= 1/2) --------------- */

uint64_t sw_fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t strmap_find(const sw_strmap *m, const char *k, size_t n, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        if (!m->key[i]) return i;
        if (m->hash[i] == h && m->klen[i] == n && memcmp(m->key[i], k, n) == 0) return i;
    }
}

int32_t sw_strmap_get(const sw_strmap *m, const char *k, size_t n)
{
    if (!m->cap) return -1;
    size_t i = strmap_find(m, k, n, sw_fnv1a(k, n));
    return m->key[i] ? m->val[i] : -1;
}

static int strmap_grow(sw_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    sw_strmap t = {0};
    t.cap = cap;
    t.key = calloc(cap, sizeof *t.key);
    t.klen = malloc(cap * sizeof *t.klen);
    t.val = malloc(cap * sizeof *t.val);
    t.hash = malloc(cap * sizeof *t.hash);
    if (!t.key || !t.klen || !t.val || !t.hash) {
        sw_strmap_free(&t);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->key[i]) continue;
        size_t j = strmap_find(&t, m->key[i], m->klen[i], m->hash[i]);
        t.key[j] = m->key[i];
        t.klen[j] = m->klen[i];
        t.val[j] = m->val[i];
        t.hash[j] = m->hash[i];
    }
    t.n = m->n;
    sw_strmap_free(m);
    *m = t;
    return 0;
}

int32_t sw_strmap_put(sw_strmap *m, const char *k, size_t n, int32_t val)
{
    if ((m->n + 1) * 2 > m->cap && strmap_grow(m)) return -2;
    uint64_t h = sw_fnv1a(k, n);
    size_t i = strmap_find(m, k, n, h);
    if (m->key[i]) return m->val[i];
    m->key[i] = k;
    m->klen[i] = (uint32_t)n;
    m->val[i] = val;
    m->hash[i] = h;
    m->n++;
    return val;
}

void sw_strmap_free(sw_strmap *m)
{
    free(m->key);
    free(m->klen);
    free(m->val);
    free(m->hash);
    memset(m, 0, sizeof *m);
}

/* ---- UTF-8 ---------------------------------------------------------------------- */

static int put_cp(uint32_t c, char sym[5])
{
    int n;
    if (c < 0x80) { sym[0] = (char)c; n = 1; }
    else if (c < 0x800) { sym[0] = (char)(0xC0 | (c >> 6)); sym[1] = (char)(0x80 | (c & 0x3F)); n = 2; }
    else if (c < 0x10000) {
        sym[0] = (char)(0xE0 | (c >> 12)); sym[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        sym[2] = (char)(0x80 | (c & 0x3F)); n = 3;
    } else {
        sym[0] = (char)(0xF0 | (c >> 18)); sym[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        sym[2] = (char)(0x80 | ((c >> 6) & 0x3F)); sym[3] = (char)(0x80 | (c & 0x3F)); n = 4;
    }
    sym[n] = 0;
    return n;
}

int sw_utf8_next(const char *s, size_t n, size_t *pos, char sym[5])
{
    const unsigned char *u = (const unsigned char *)s + *pos;
    size_t left = n - *pos;
    unsigned c = u[0];
    int need;
    uint32_t cp, min;
    if (c < 0x80) { *pos += 1; sym[0] = (char)c; sym[1] = 0; return 1; }
    if ((c & 0xE0) == 0xC0) { need = 1; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { need = 2; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { need = 3; cp = c & 0x07; min = 0x10000; }
    else goto latin1;
    if (left <= (size_t)need) goto latin1;
    for (int k = 1; k <= need; k++) {
        if ((u[k] & 0xC0) != 0x80) goto latin1;
        cp = (cp << 6) | (u[k] & 0x3F);
    }
    /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto latin1;
    *pos += (size_t)need + 1;
    return put_cp(cp, sym);
latin1:
    *pos += 1;
    return put_cp(c, sym);
}

size_t sw_utf8_clean(const char *s, size_t n, char *out)
{
    size_t k = 0, pos = 0;
    char sym[5];
    while (pos < n) {
        int len = sw_utf8_next(s, n, &pos, sym);
        memcpy(out + k, sym, (size_t)len);
        k += (size_t)len;
    }
    out[k] = 0;
    return k;
}

/* ---- files and lines ------------------------------------------------------------ */

int sw_lines_next(sw_lines *it, const char **line, size_t *n)
{
    if (it->pos >= it->len) return 0;
    const char *s = it->buf + it->pos;
    size_t left = it->len - it->pos;
    const char *nl = memchr(s, '\n', left);
    size_t m = nl ? (size_t)(nl - s) : left;
    it->pos += nl ? m + 1 : m;
    if (it->lineno == 0 && m >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        m -= 3;
    }
    it->lineno++;
    if (m && s[m - 1] == '\r') m--;
    *line = s;
    *n = m;
    return 1;
}
