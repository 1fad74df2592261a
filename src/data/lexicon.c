/* Festival lexicons (the compiled form festlex-cmu ships as cmudict-0.4.out):
 *
 *   MNCL
 *   ; a comment
 *   ("word" pos (((ph ph) stress) ((ph) stress) ...))
 *   ("word" pos (ph ph ph))            (an unsyllabified entry)
 *
 * One entry per line. The word is a string with backslash escapes (or a bare
 * atom); pos is an atom or a list. Phones are the flat sequence with syllable
 * boundaries removed. In the lexicon form a syllable's stress digit goes on
 * its vowel phones, like CMUdict's AA1 ("ae1 f r ax0 ..."); a vowel is a phone
 * starting with a, e, i, o or u, which holds for the CMU/radio phone set
 * Festival's lexicons use (aa ae ah ao aw ax ay eh el em en er ey ih iy ow oy
 * uh uw; none of its consonants start with a vowel letter). The published
 * form (BENCH.md §3) strips stress and maps ax -> ah.
 *
 * Words are folded to lower case (ASCII letters only), as CMUdict is case
 * insensitive; several entries of one word, any pos, are its references. */
#include "data/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n, i;
    const char *expected; /* set on failure */
} cur;

static void ws(cur *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t')) c->i++;
}

static int peek(cur *c)
{
    ws(c);
    return c->i < c->n ? (unsigned char)c->s[c->i] : -1;
}

static int eat(cur *c, char ch, const char *what)
{
    if (peek(c) != (unsigned char)ch) {
        c->expected = what;
        return 0;
    }
    c->i++;
    return 1;
}

static int is_atom_char(int ch)
{
    return ch > ' ' && ch != '(' && ch != ')' && ch != '"' && ch != ';' && ch != 0x7f;
}

/* An atom at the cursor: start and length (0 if none). */
static size_t atom(cur *c, const char **start)
{
    ws(c);
    *start = c->s + c->i;
    size_t j = c->i;
    while (j < c->n && is_atom_char((unsigned char)c->s[j])) j++;
    size_t len = j - c->i;
    c->i = j;
    return len;
}

/* Appends n bytes to a bounded buffer; 0 if it does not fit. */
static int put(char *buf, size_t cap, size_t *k, const char *s, size_t n)
{
    if (*k + n + 1 > cap) return 0;
    memcpy(buf + *k, s, n);
    *k += n;
    buf[*k] = 0;
    return 1;
}

static int is_vowel(const char *p, size_t n)
{
    return n && strchr("aeiou", p[0]) != NULL;
}

/* Adds one phone to the target: stress on vowels (lexicon form) or the
 * published mapping. */
static int put_phone(char *buf, size_t cap, size_t *k, const char *p, size_t n, const char *stress, size_t sn,
                     int published)
{
    if (published) {
        while (n > 1 && p[n - 1] >= '0' && p[n - 1] <= '9') n--;
        if (n == 2 && p[0] == 'a' && p[1] == 'x') p = "ah";
        sn = 0;
    }
    /* all or nothing: a phone that does not fit leaves no dangling space */
    if (*k + (*k ? 1 : 0) + n + sn + 1 > cap) return 0;
    if (*k) put(buf, cap, k, " ", 1);
    if (published) return put(buf, cap, k, p, n);
    if (!put(buf, cap, k, p, n)) return 0;
    if (sn && is_vowel(p, n) && !(p[n - 1] >= '0' && p[n - 1] <= '9')) return put(buf, cap, k, stress, sn);
    return 1;
}

/* Parses one entry line into word and phones; 0 and c->expected on failure. */
static int parse_entry(cur *c, char *word, size_t wcap, size_t *wn, char *ph, size_t pcap, size_t *pn, int published)
{
    *wn = *pn = 0;
    if (!eat(c, '(', "'(' opening an entry")) return 0;
    /* the word */
    if (peek(c) == '"') {
        c->i++;
        for (;;) {
            if (c->i >= c->n) {
                c->expected = "'\"' closing the word";
                return 0;
            }
            char ch = c->s[c->i++];
            if (ch == '"') break;
            if (ch == '\\' && c->i < c->n) ch = c->s[c->i++];
            if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
            if (!put(word, wcap, wn, &ch, 1)) {
                c->expected = "a word shorter than 1024 bytes";
                return 0;
            }
        }
    } else {
        const char *a;
        size_t n = atom(c, &a);
        if (!n || n >= wcap) {
            c->expected = "a word (a \"string\")";
            return 0;
        }
        for (size_t j = 0; j < n; j++) word[j] = (char)(a[j] >= 'A' && a[j] <= 'Z' ? a[j] - 'A' + 'a' : a[j]);
        word[n] = 0;
        *wn = n;
    }
    if (*wn == 0) {
        c->expected = "a non-empty word";
        return 0;
    }
    /* part of speech: an atom or a (possibly nested) list */
    if (peek(c) == '(') {
        int depth = 0;
        do {
            int ch = peek(c);
            if (ch < 0) {
                c->expected = "')' closing the part of speech";
                return 0;
            }
            c->i++;
            if (ch == '(') depth++;
            else if (ch == ')') depth--;
        } while (depth > 0);
    } else {
        const char *a;
        if (!atom(c, &a)) {
            c->expected = "a part of speech (an atom such as nil, n, v)";
            return 0;
        }
    }
    /* the pronunciation */
    if (!eat(c, '(', "'(' opening the pronunciation")) return 0;
    if (peek(c) == '(') {
        while (peek(c) == '(') {
            c->i++;
            if (!eat(c, '(', "'(' opening a syllable's phones")) return 0;
            size_t p0 = c->i;
            const char *a;
            size_t nphones = 0;
            while (atom(c, &a)) nphones++;
            size_t p1 = c->i;
            if (!eat(c, ')', "a phone or ')' closing a syllable's phones")) return 0;
            if (!nphones) {
                c->i = p1;
                c->expected = "at least one phone in a syllable";
                return 0;
            }
            const char *st;
            size_t sn = atom(c, &st);
            for (size_t j = 0; j < sn; j++)
                if (st[j] < '0' || st[j] > '9') sn = 0;
            if (!sn) {
                c->expected = "a stress digit after a syllable's phones";
                return 0;
            }
            if (!eat(c, ')', "')' closing a syllable")) return 0;
            /* now emit the syllable's phones with its stress */
            cur s2 = {c->s, p1, p0, NULL};
            size_t n;
            while ((n = atom(&s2, &a)))
                if (!put_phone(ph, pcap, pn, a, n, st, sn, published)) {
                    c->expected = "a pronunciation shorter than 4096 bytes";
                    return 0;
                }
        }
    } else {
        const char *a;
        size_t n;
        while ((n = atom(c, &a)))
            if (!put_phone(ph, pcap, pn, a, n, NULL, 0, published)) {
                c->expected = "a pronunciation shorter than 4096 bytes";
                return 0;
            }
    }
    if (!eat(c, ')', "'(' opening a syllable, a phone, or ')' closing the pronunciation")) return 0;
    if (*pn == 0) {
        c->i--;
        c->expected = "at least one phone";
        return 0;
    }
    if (!eat(c, ')', "')' closing the entry")) return 0;
    int ch = peek(c);
    if (ch >= 0 && ch != ';') {
        c->expected = "the end of the line after the entry";
        return 0;
    }
    return 1;
}

/* A short quote of the text at the failure point, for the message. */
static void describe(const cur *c, char *buf, size_t len)
{
    if (c->i >= c->n) {
        snprintf(buf, len, "the end of the line");
        return;
    }
    size_t m = c->n - c->i;
    if (m > 12) m = 12;
    char q[64];
    size_t k = 0;
    for (size_t j = 0; j < m; j++) {
        unsigned char ch = (unsigned char)c->s[c->i + j];
        k += (size_t)snprintf(q + k, sizeof q - k, ch >= ' ' && ch < 0x7f ? "%c" : "\\x%02x", ch);
    }
    snprintf(buf, len, "\"%s\"", q);
}

sw_status sw_load_lexicon(sw_dataset *ds, const char *path, int is_default, const sw_data_options *opt,
                          sw_error *err)
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
    int seen_content = 0;
    char word[1024], ph[4096];
    while (sw_lines_next(&it, &line, &n)) {
        if (memchr(line, 0, n)) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s:%zu: expected text, got a NUL byte", path, it.lineno);
            break;
        }
        cur c = {line, n, 0, NULL};
        int ch = peek(&c);
        if (ch < 0 || ch == ';') continue;
        if (!seen_content) {
            seen_content = 1;
            size_t e = n;
            while (e > c.i && (line[e - 1] == ' ' || line[e - 1] == '\t')) e--;
            if (e - c.i == 4 && memcmp(line + c.i, "MNCL", 4) == 0) continue;
        }
        size_t wn, pn;
        if (!parse_entry(&c, word, sizeof word, &wn, ph, sizeof ph, &pn, opt->published)) {
            char got[80];
            describe(&c, got, sizeof got);
            st = sw_error_set(err, SW_ERR_FORMAT,
                              "%s:%zu: malformed lexicon entry: expected %s at column %zu, got %s "
                              "(entries look like (\"word\" pos (((ph ph) 1) ((ph) 0))))",
                              path, it.lineno, c.expected, c.i + 1, got);
            break;
        }
        if ((st = sw_seq_raw_add(&raw, word, wn, ph, pn, (uint32_t)it.lineno, err))) break;
    }
    free(buf);
    if (!st) {
        size_t nn = strlen(path) + 32;
        ds->name = malloc(nn);
        if (!ds->name) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        else snprintf(ds->name, nn, "cmudict%s%s%s", is_default ? "" : ":", is_default ? "" : path,
                      opt->published ? "+published" : "");
    }
    if (!st) st = sw_seq_finish(ds, &raw, opt, path, err);
    sw_seq_raw_free(&raw);
    return st;
}

char *sw_phones_published(const char *phones, char *buf, size_t len)
{
    if (!len) return buf;
    size_t k = 0;
    buf[0] = 0;
    const char *p = phones;
    while (*p) {
        while (*p == ' ') p++;
        const char *q = p;
        while (*q && *q != ' ') q++;
        if (q > p && !put_phone(buf, len, &k, p, (size_t)(q - p), NULL, 0, 1)) break; /* truncated */
        p = q;
    }
    return buf;
}
