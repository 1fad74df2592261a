/* Search spaces: the text form (one `NAME = VALUE` per line), its canonical
 * print, and the map from a point of the unit cube to a trial's options. The
 * grammar and the map are written out in include/stopwise/search.h. */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *name;
    int line;
    int is_domain;
    char *text;       /* text entries: the unquoted text (templates keep {NAME}) */
    int dim;          /* domains: the dimension's index                           */
    int is_variable;  /* some template names it                                   */
} entry;

typedef struct dim {
    int entry;
    sw_dim_kind kind;
    int log;
    double lo, hi;
    char **choices;
    size_t n_choices;
} dim;

struct sw_space {
    char *source;
    entry *entries;
    size_t n_entries, cap_entries;
    dim *dims;
    size_t n_dims, cap_dims;
    size_t *options; /* entry index of each option */
    size_t n_options;
};

/* ---- parsing ---------------------------------------------------------------- */

typedef struct parser {
    const char *source;
    int line;
    sw_error *err;
} parser;

static sw_status fail(parser *p, const char *fmt, const char *a, const char *b)
{
    char what[700];
    snprintf(what, sizeof what, fmt, a ? a : "", b ? b : "");
    return sw_error_set(p->err, SW_ERR_FORMAT, "%s:%d: %s", p->source, p->line, what);
}

static int name_start(int c) { return isalpha(c) || c == '_'; }
static int name_char(int c) { return isalnum(c) || c == '_' || c == '-'; }

static int valid_name(const char *s, size_t n)
{
    if (!n || !name_start((unsigned char)s[0])) return 0;
    for (size_t i = 1; i < n; i++)
        if (!name_char((unsigned char)s[i])) return 0;
    return 1;
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1])) (*n)--;
}

/* Unquotes "..." (with \" and \\) or copies bare text; NULL on a bad quote
 * (message set) or out of memory. */
static char *unquote(parser *p, const char *s, size_t n, sw_status *st)
{
    *st = SW_OK;
    if (!n || s[0] != '"') {
        for (size_t i = 0; i < n; i++)
            if (s[i] == '"') {
                *st = fail(p, "a quote inside bare text: quote the whole value (\"...\")", NULL, NULL);
                return NULL;
            }
        char *d = dup_range(s, n);
        if (!d) *st = sw_error_set(p->err, SW_ERR_NOMEM, "out of memory");
        return d;
    }
    char *d = malloc(n);
    if (!d) {
        *st = sw_error_set(p->err, SW_ERR_NOMEM, "out of memory");
        return NULL;
    }
    size_t k = 0, i = 1;
    for (; i < n && s[i] != '"'; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\')) i++;
        d[k++] = s[i];
    }
    if (i != n - 1) {
        free(d);
        *st = fail(p, i >= n ? "an unterminated quote" : "text after the closing quote", NULL, NULL);
        return NULL;
    }
    d[k] = 0;
    return d;
}

/* Splits the arguments of a domain at the commas outside quotes. Returns the
 * count, or -1 after a message; item i is args[i] (pointers into s). */
static int split_args(parser *p, const char *s, size_t n, const char **args, size_t *lens, int cap)
{
    int k = 0, quoted = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] == '\\' && quoted) {
            i++;
            continue;
        }
        if (i < n && s[i] == '"') quoted = !quoted;
        if (i == n || (s[i] == ',' && !quoted)) {
            if (k == cap) {
                char most[16];
                snprintf(most, sizeof most, "%d", cap);
                fail(p, "too many arguments (at most %s)", most, NULL);
                return -1;
            }
            args[k] = s + start;
            lens[k] = i - start;
            trim(&args[k], &lens[k]);
            if (!lens[k]) {
                fail(p, "an empty item", NULL, NULL);
                return -1;
            }
            k++;
            start = i + 1;
        }
    }
    if (quoted) {
        fail(p, "an unterminated quote", NULL, NULL);
        return -1;
    }
    return k;
}

static sw_status parse_number(parser *p, const char *s, size_t n, int integer, double *out)
{
    char buf[64];
    if (n >= sizeof buf) return fail(p, "'%s...': a number is expected", "", NULL);
    memcpy(buf, s, n);
    buf[n] = 0;
    if (integer) {
        long long v;
        uint64_t t;
        if (sw_parse_int(buf, -(1LL << 52), 1LL << 52, &v) == SW_OK) *out = (double)v;
        else if (sw_parse_tokens(buf, &t) == SW_OK && t <= (1ULL << 52) && (double)t == floor((double)t)) *out = (double)t;
        else return fail(p, "'%s': a whole number is expected (k, M, G suffixes allowed)", buf, NULL);
        return SW_OK;
    }
    if (sw_parse_double(buf, out)) return fail(p, "'%s': a number is expected", buf, NULL);
    return SW_OK;
}

/* choice(...), range(...) or int(...): fills d. */
static sw_status parse_domain(parser *p, const char *kw, const char *s, size_t n, dim *d)
{
    const char *args[256];
    size_t lens[256];
    int is_choice = !strcmp(kw, "choice");
    int k = split_args(p, s, n, args, lens, is_choice ? 256 : 3);
    if (k < 0) return p->err ? p->err->status : SW_ERR_FORMAT;
    sw_status st;
    if (is_choice) {
        if (k < 2) return fail(p, "choice needs at least two items: choice(A, B, ...)", NULL, NULL);
        d->kind = SW_DIM_CHOICE;
        d->choices = calloc((size_t)k, sizeof *d->choices);
        if (!d->choices) return sw_error_set(p->err, SW_ERR_NOMEM, "out of memory");
        for (int i = 0; i < k; i++) {
            if (!(d->choices[i] = unquote(p, args[i], lens[i], &st))) return st;
            d->n_choices++;
            if (!d->choices[i][0]) return fail(p, "an empty choice item", NULL, NULL);
            for (int j = 0; j < i; j++)
                if (!strcmp(d->choices[j], d->choices[i])) return fail(p, "'%s' is listed twice", d->choices[i], NULL);
        }
        return SW_OK;
    }
    int integer = !strcmp(kw, "int");
    d->kind = integer ? SW_DIM_INT : SW_DIM_RANGE;
    if (k < 2)
        return fail(p, "%s needs two bounds: %s(LO, HI[, log])", kw, kw);
    if ((st = parse_number(p, args[0], lens[0], integer, &d->lo))) return st;
    if ((st = parse_number(p, args[1], lens[1], integer, &d->hi))) return st;
    if (k == 3) {
        if (lens[2] != 3 || strncmp(args[2], "log", 3)) return fail(p, "the third argument of %s can only be log", kw, NULL);
        d->log = 1;
    }
    if (!(d->lo < d->hi)) return fail(p, "%s(LO, HI) needs LO < HI", kw, NULL);
    if (d->log && !(d->lo > 0)) return fail(p, "%s(LO, HI, log) needs 0 < LO", kw, NULL);
    return SW_OK;
}

/* Checks the {NAME} references of a text (names are resolved later). */
static sw_status check_template(parser *p, const char *t)
{
    for (const char *c = t; *c; c++) {
        if (*c == '}') return fail(p, "a '}' without '{' in '%s'", t, NULL);
        if (*c != '{') continue;
        const char *end = strchr(c, '}');
        if (!end) return fail(p, "a '{' without '}' in '%s'", t, NULL);
        if (!valid_name(c + 1, (size_t)(end - c - 1)))
            return fail(p, "'%s': {NAME} needs a name (letters, digits, _ and -)", t, NULL);
        c = end;
    }
    return SW_OK;
}

static sw_status add_entry(sw_space *sp, parser *p, const char *line, size_t n)
{
    const char *eq = memchr(line, '=', n);
    if (!eq) {
        char got[96];
        snprintf(got, sizeof got, "%.*s", (int)(n > 80 ? 80 : n), line);
        return fail(p, "expected NAME = VALUE, got '%s'", got, NULL);
    }
    const char *name = line, *val = eq + 1;
    size_t nn = (size_t)(eq - line), vn = n - nn - 1;
    trim(&name, &nn);
    trim(&val, &vn);
    char nbuf[128];
    snprintf(nbuf, sizeof nbuf, "%.*s", (int)(nn < 100 ? nn : 100), name);
    if (!valid_name(name, nn)) return fail(p, "'%s' is not a name (letters, digits, _ and -, not starting with a digit)", nbuf, NULL);
    if (!vn) return fail(p, "%s has no value", nbuf, NULL);
    for (size_t i = 0; i < sp->n_entries; i++)
        if (!strcmp(sp->entries[i].name, nbuf)) {
            char prev[16];
            snprintf(prev, sizeof prev, "%d", sp->entries[i].line);
            return fail(p, "%s is set twice (first on line %s)", nbuf, prev);
        }
    if (SW_ARRAY_RESERVE(sp->entries, sp->cap_entries, sp->n_entries + 1))
        return sw_error_set(p->err, SW_ERR_NOMEM, "out of memory");
    entry *e = &sp->entries[sp->n_entries];
    memset(e, 0, sizeof *e);
    e->dim = -1;
    e->line = p->line;
    if (!(e->name = dup_range(name, nn))) return sw_error_set(p->err, SW_ERR_NOMEM, "out of memory");
    sp->n_entries++;
    static const char *const kws[] = {"choice", "range", "int"};
    for (size_t k = 0; k < 3; k++) {
        size_t kl = strlen(kws[k]);
        if (vn <= kl || strncmp(val, kws[k], kl)) continue;
        const char *open = val + kl;
        while (open < val + vn && isspace((unsigned char)*open)) open++;
        if (open == val + vn || *open != '(') continue;
        if (val[vn - 1] != ')') return fail(p, "%s(...) must end with ')'", kws[k], NULL);
        if (SW_ARRAY_RESERVE(sp->dims, sp->cap_dims, sp->n_dims + 1))
            return sw_error_set(p->err, SW_ERR_NOMEM, "out of memory");
        dim *d = &sp->dims[sp->n_dims];
        memset(d, 0, sizeof *d);
        d->entry = (int)(sp->n_entries - 1);
        sp->n_dims++;
        e->is_domain = 1;
        e->dim = (int)(sp->n_dims - 1);
        return parse_domain(p, kws[k], open + 1, (size_t)(val + vn - 1 - (open + 1)), d);
    }
    sw_status st;
    if (!(e->text = unquote(p, val, vn, &st))) return st;
    if (!e->text[0]) return fail(p, "%s has an empty value", nbuf, NULL);
    return check_template(p, e->text);
}

static int find_entry(const sw_space *sp, const char *name, size_t n)
{
    for (size_t i = 0; i < sp->n_entries; i++)
        if (strlen(sp->entries[i].name) == n && !strncmp(sp->entries[i].name, name, n)) return (int)i;
    return -1;
}

/* Resolves every {NAME}: marks variables, refuses unknown names and
 * templates inside variables; then lists the options. */
static sw_status resolve(sw_space *sp, parser *p)
{
    for (size_t i = 0; i < sp->n_entries; i++) {
        const char *t = sp->entries[i].text;
        for (const char *c = t ? strchr(t, '{') : NULL; c; c = strchr(c + 1, '{')) {
            const char *end = strchr(c, '}');
            int v = find_entry(sp, c + 1, (size_t)(end - c - 1));
            p->line = sp->entries[i].line;
            char ref[128];
            snprintf(ref, sizeof ref, "%.*s", (int)(end - c - 1 < 100 ? end - c - 1 : 100), c + 1);
            if (v < 0) return fail(p, "{%s} names nothing: define it on a line of its own (%s = ...)", ref, ref);
            if (v == (int)i) return fail(p, "{%s} names the line itself", ref, NULL);
            sp->entries[v].is_variable = 1;
        }
    }
    for (size_t i = 0; i < sp->n_entries; i++) {
        entry *e = &sp->entries[i];
        if (e->is_variable && e->text && strchr(e->text, '{')) {
            p->line = e->line;
            return fail(p, "%s is used as {%s} by another line, so it cannot hold {NAME} itself", e->name, e->name);
        }
    }
    sp->options = calloc(sp->n_entries ? sp->n_entries : 1, sizeof *sp->options);
    if (!sp->options) return sw_error_set(p->err, SW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < sp->n_entries; i++)
        if (!sp->entries[i].is_variable) sp->options[sp->n_options++] = i;
    return SW_OK;
}

sw_status sw_space_parse(const char *text, size_t len, const char *name, sw_space **out, sw_error *err)
{
    *out = NULL;
    sw_space *sp = calloc(1, sizeof *sp);
    if (!sp || !(sp->source = strdup(name ? name : "(space)"))) {
        free(sp);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    }
    parser p = {sp->source, 0, err};
    sw_status st = SW_OK;
    for (size_t pos = 0; pos < len && !st;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + 1;
        p.line++;
        if (memchr(line, 0, n)) {
            st = fail(&p, "a NUL byte: a space file is text", NULL, NULL);
            break;
        }
        /* a comment starts at a # outside quotes; inside them a backslash
         * escapes the next character (so "a\\" ends at its quote), as
         * unquote and split_args read them */
        int quoted = 0;
        for (size_t i = 0; i < n; i++) {
            if (quoted && line[i] == '\\') {
                i++;
                continue;
            }
            if (line[i] == '"') quoted = !quoted;
            if (line[i] == '#' && !quoted) {
                n = i;
                break;
            }
        }
        trim(&line, &n);
        if (n) st = add_entry(sp, &p, line, n);
    }
    if (!st && !sp->n_entries) st = sw_error_set(err, SW_ERR_FORMAT, "%s: no entries (expected NAME = VALUE lines)", sp->source);
    if (!st) st = resolve(sp, &p);
    if (st) {
        sw_space_free(sp);
        return st;
    }
    *out = sp;
    return SW_OK;
}

sw_status sw_space_read(const char *path, sw_space **out, sw_error *err)
{
    char *buf;
    size_t len;
    *out = NULL;
    sw_status st = sw_file_read(path, &buf, &len, err);
    if (st) return st;
    st = sw_space_parse(buf, len, path, out, err);
    free(buf);
    return st;
}

void sw_space_free(sw_space *sp)
{
    if (!sp) return;
    for (size_t i = 0; i < sp->n_entries; i++) {
        free(sp->entries[i].name);
        free(sp->entries[i].text);
    }
    for (size_t d = 0; d < sp->n_dims; d++) {
        for (size_t k = 0; k < sp->dims[d].n_choices; k++) free(sp->dims[d].choices[k]);
        free(sp->dims[d].choices);
    }
    free(sp->entries);
    free(sp->dims);
    free(sp->options);
    free(sp->source);
    free(sp);
}

/* ---- canonical text ------------------------------------------------------------ */

typedef struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *t, size_t n)
{
    if (b->oom || SW_ARRAY_RESERVE(b->s, b->cap, b->n + n + 1)) {
        b->oom = 1;
        return;
    }
    memcpy(b->s + b->n, t, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void puts_(sbuf *b, const char *t) { put(b, t, strlen(t)); }

/* Writes text bare when it reads back the same, else quoted. */
static void put_text(sbuf *b, const char *t, int in_domain)
{
    size_t n = strlen(t);
    int quote = !n || isspace((unsigned char)t[0]) || isspace((unsigned char)t[n - 1]) || strpbrk(t, "\"#") ||
                (in_domain && strpbrk(t, ",()"));
    static const char *const kws[] = {"choice", "range", "int"};
    for (size_t k = 0; !in_domain && k < 3; k++)
        if (!strncmp(t, kws[k], strlen(kws[k]))) {
            const char *c = t + strlen(kws[k]);
            while (isspace((unsigned char)*c)) c++;
            if (*c == '(') quote = 1;
        }
    if (!quote) {
        puts_(b, t);
        return;
    }
    puts_(b, "\"");
    for (const char *c = t; *c; c++) {
        if (*c == '"' || *c == '\\') puts_(b, "\\");
        put(b, c, 1);
    }
    puts_(b, "\"");
}

/* An int bound prints as digits: the shortest double text of a large one has
 * an exponent ("1.7470427462951e+15"), which int() does not read back. */
static void put_number(sbuf *b, double x, int integer)
{
    char num[32];
    if (integer) snprintf(num, sizeof num, "%lld", (long long)x);
    puts_(b, integer ? num : sw_format_double(x, num, sizeof num));
}

char *sw_space_format(const sw_space *sp)
{
    sbuf b = {0};
    for (size_t i = 0; i < sp->n_entries; i++) {
        const entry *e = &sp->entries[i];
        puts_(&b, e->name);
        puts_(&b, " = ");
        if (!e->is_domain) {
            put_text(&b, e->text, 0);
        } else {
            const dim *d = &sp->dims[e->dim];
            if (d->kind == SW_DIM_CHOICE) {
                puts_(&b, "choice(");
                for (size_t k = 0; k < d->n_choices; k++) {
                    if (k) puts_(&b, ", ");
                    put_text(&b, d->choices[k], 1);
                }
            } else {
                puts_(&b, d->kind == SW_DIM_INT ? "int(" : "range(");
                put_number(&b, d->lo, d->kind == SW_DIM_INT);
                puts_(&b, ", ");
                put_number(&b, d->hi, d->kind == SW_DIM_INT);
                if (d->log) puts_(&b, ", log");
            }
            puts_(&b, ")");
        }
        puts_(&b, "\n");
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    if (!b.s) return strdup("");
    return b.s;
}

/* ---- accessors ------------------------------------------------------------------ */

const char *sw_space_source(const sw_space *s) { return s->source; }
size_t sw_space_n_options(const sw_space *s) { return s->n_options; }
const char *sw_space_option_name(const sw_space *s, size_t i) { return s->entries[s->options[i]].name; }
int sw_space_option_line(const sw_space *s, size_t i) { return s->entries[s->options[i]].line; }
const char *sw_space_option_text(const sw_space *s, size_t i) { return s->entries[s->options[i]].text; }
int sw_space_option_dim(const sw_space *s, size_t i) { return s->entries[s->options[i]].dim; }

int sw_space_find_option(const sw_space *s, const char *name)
{
    for (size_t i = 0; i < s->n_options; i++)
        if (!strcmp(sw_space_option_name(s, i), name)) return (int)i;
    return -1;
}

size_t sw_space_n_dims(const sw_space *s) { return s->n_dims; }
const char *sw_space_dim_name(const sw_space *s, size_t d) { return s->entries[s->dims[d].entry].name; }
int sw_space_dim_line(const sw_space *s, size_t d) { return s->entries[s->dims[d].entry].line; }
sw_dim_kind sw_space_dim_kind(const sw_space *s, size_t d) { return s->dims[d].kind; }
int sw_space_dim_log(const sw_space *s, size_t d) { return s->dims[d].log; }
double sw_space_dim_lo(const sw_space *s, size_t d) { return s->dims[d].lo; }
double sw_space_dim_hi(const sw_space *s, size_t d) { return s->dims[d].hi; }
size_t sw_space_dim_n_choices(const sw_space *s, size_t d) { return s->dims[d].n_choices; }
const char *sw_space_dim_choice(const sw_space *s, size_t d, size_t k) { return s->dims[d].choices[k]; }

/* ---- points to configurations ------------------------------------------------------ */

/* Maps coordinate u of dimension d to its value's text, and moves u to the
 * coordinate that maps to exactly that value (the middle of a choice's or an
 * integer's cell; a real's rounded value). Returns 1 for a number (JSON),
 * 0 for text. */
static int dim_value(const dim *d, double *u, char *buf, size_t cap)
{
    double x = *u < 0 || *u != *u ? 0 : *u > 1 ? 1 : *u;
    if (d->kind == SW_DIM_CHOICE) {
        size_t k = (size_t)(x * (double)d->n_choices);
        if (k >= d->n_choices) k = d->n_choices - 1;
        snprintf(buf, cap, "%s", d->choices[k]);
        *u = ((double)k + 0.5) / (double)d->n_choices;
        return 0;
    }
    if (d->kind == SW_DIM_INT) {
        double v;
        if (d->log) v = floor(exp(log(d->lo) + x * (log(d->hi + 1) - log(d->lo))));
        else v = floor(d->lo + x * (d->hi - d->lo + 1));
        if (v < d->lo) v = d->lo;
        if (v > d->hi) v = d->hi;
        sw_snprintf(buf, cap, "%.0f", v);
        /* the middle of the cell of v */
        if (d->log) *u = (log(v + 0.5) - log(d->lo)) / (log(d->hi + 1) - log(d->lo));
        else *u = (v - d->lo + 0.5) / (d->hi - d->lo + 1);
        if (*u < 0) *u = 0;
        if (*u > 1) *u = 1;
        return 1;
    }
    double v = d->log ? exp(log(d->lo) + x * (log(d->hi) - log(d->lo))) : d->lo + x * (d->hi - d->lo);
    char r[32];
    sw_snprintf(r, sizeof r, "%.4g", v); /* 4 significant digits: what the trial trains with */
    double back = sw_strtod(r, NULL);
    if (back < d->lo) back = d->lo;
    if (back > d->hi) back = d->hi;
    sw_format_double(back, buf, cap);
    *u = d->log ? (log(back) - log(d->lo)) / (log(d->hi) - log(d->lo)) : (back - d->lo) / (d->hi - d->lo);
    if (*u < 0) *u = 0;
    if (*u > 1) *u = 1;
    return 1;
}

static void put_json_string(sbuf *b, const char *t)
{
    puts_(b, "\"");
    for (const unsigned char *c = (const unsigned char *)t; *c; c++) {
        char esc[8];
        if (*c == '"' || *c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*c;
            put(b, esc, 2);
        } else if (*c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *c);
            puts_(b, esc);
        } else {
            put(b, (const char *)c, 1);
        }
    }
    puts_(b, "\"");
}

/* The value of variable entry e (a dimension's value or constant text). */
static const char *variable_value(const sw_space_config *c, const entry *e)
{
    return e->is_domain ? c->dim_values[e->dim] : e->text;
}

static char *fill_template(const sw_space *sp, const sw_space_config *c, const char *t)
{
    sbuf b = {0};
    for (const char *p = t; *p;) {
        const char *open = strchr(p, '{');
        if (!open) {
            puts_(&b, p);
            break;
        }
        put(&b, p, (size_t)(open - p));
        const char *end = strchr(open, '}');
        int v = find_entry(sp, open + 1, (size_t)(end - open - 1));
        puts_(&b, variable_value(c, &sp->entries[v]));
        p = end + 1;
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s ? b.s : strdup("");
}

void sw_space_config_clear(sw_space_config *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_options; i++) {
        if (c->names) free(c->names[i]);
        if (c->values) free(c->values[i]);
    }
    for (size_t d = 0; d < c->n_dims; d++)
        if (c->dim_values) free(c->dim_values[d]);
    free(c->names);
    free(c->values);
    free(c->dim_values);
    free(c->params_json);
    memset(c, 0, sizeof *c);
}

sw_status sw_space_config_make(const sw_space *sp, double *point, size_t n, sw_space_config *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    if (n != sp->n_dims)
        return sw_error_set(err, SW_ERR_INVALID, "a point of %zu coordinates for a space of %zu dimensions", n, sp->n_dims);
    out->n_dims = sp->n_dims;
    out->n_options = sp->n_options;
    out->dim_values = calloc(sp->n_dims ? sp->n_dims : 1, sizeof *out->dim_values);
    out->names = calloc(sp->n_options ? sp->n_options : 1, sizeof *out->names);
    out->values = calloc(sp->n_options ? sp->n_options : 1, sizeof *out->values);
    sbuf json = {0};
    int oom = !out->dim_values || !out->names || !out->values;
    puts_(&json, "{");
    for (size_t d = 0; !oom && d < sp->n_dims; d++) {
        char v[512];
        int number = dim_value(&sp->dims[d], &point[d], v, sizeof v);
        oom = !(out->dim_values[d] = strdup(v));
        if (d) puts_(&json, ", ");
        put_json_string(&json, sw_space_dim_name(sp, d));
        puts_(&json, ": ");
        if (number) puts_(&json, v);
        else put_json_string(&json, v);
    }
    puts_(&json, "}");
    for (size_t i = 0; !oom && i < sp->n_options; i++) {
        const entry *e = &sp->entries[sp->options[i]];
        oom = !(out->names[i] = strdup(e->name));
        if (!oom) oom = !(out->values[i] = e->is_domain ? strdup(out->dim_values[e->dim]) : fill_template(sp, out, e->text));
    }
    out->params_json = json.s;
    if (oom || json.oom) {
        sw_space_config_clear(out);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    }
    return SW_OK;
}
