/* The policy's one-line text form: parsing with errors that point at the bad
 * part, and canonical formatting that round-trips (grammar in stop.h and
 * docs/STOPPING.md). */
#include "stop/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sw_rule_kind_name(sw_rule_kind k)
{
    switch (k) {
    case SW_RULE_NONE: return "none";
    case SW_RULE_PATIENCE: return "patience";
    case SW_RULE_TARGET: return "target";
    case SW_RULE_DIVERGE: return "diverge";
    case SW_RULE_GL: return "gl";
    case SW_RULE_PQ: return "pq";
    case SW_RULE_UP: return "up";
    case SW_RULE_GAIN: return "gain";
    case SW_RULE_EXTRAPOLATE: return "extrapolate";
    case SW_RULE_BUDGET: return "budget";
    }
    return "unknown";
}

/* A piece of the text: [s, s+len) at offset off of the whole policy. */
typedef struct span {
    const char *s;
    size_t len, off;
} span;

typedef struct parser {
    const char *text;
    sw_error *err;
    size_t column, width; /* where the failure points (sw_policy_parse_located) */
} parser;

static sw_status fail(parser *ps, span at, span item, const char *fmt, const char *a)
{
    char what[512];
    snprintf(what, sizeof what, fmt, a ? a : "");
    ps->column = at.off + 1;
    ps->width = at.len;
    return sw_error_set(ps->err, SW_ERR_INVALID, "policy character %zu ('%.*s' in '%.*s'): %s",
                        at.off + 1, (int)at.len, at.s, (int)item.len, item.s, what);
}

static int span_eq(span a, const char *lit) { return a.len == strlen(lit) && !memcmp(a.s, lit, a.len); }

static void span_copy(span a, char *buf, size_t cap)
{
    size_t n = a.len < cap - 1 ? a.len : cap - 1;
    memcpy(buf, a.s, n);
    buf[n] = 0;
}

static int span_double(span a, double *out)
{
    char buf[64];
    if (a.len == 0 || a.len >= sizeof buf) return 0;
    span_copy(a, buf, sizeof buf);
    return sw_parse_double(buf, out) == SW_OK;
}

static int span_int(span a, long long lo, long long hi, long long *out)
{
    char buf[64];
    if (a.len == 0 || a.len >= sizeof buf) return 0;
    span_copy(a, buf, sizeof buf);
    return sw_parse_int(buf, lo, hi, out) == SW_OK;
}

static int span_tokens(span a, uint64_t *out)
{
    char buf[64];
    if (a.len == 0 || a.len >= sizeof buf) return 0;
    span_copy(a, buf, sizeof buf);
    return sw_parse_tokens(buf, out) == SW_OK;
}

/* Splits `part` at its first '=' into key and value (value.s NULL if none). */
static void split_eq(span part, span *key, span *val)
{
    const char *eq = memchr(part.s, '=', part.len);
    *key = part;
    val->s = NULL;
    val->len = 0;
    val->off = part.off + part.len;
    if (eq) {
        key->len = (size_t)(eq - part.s);
        val->s = eq + 1;
        val->len = part.len - key->len - 1;
        val->off = part.off + key->len + 1;
    }
}

static int valid_metric_name(span a)
{
    if (a.len == 0 || a.len >= SW_METRIC_NAME_MAX) return 0;
    for (size_t i = 0; i < a.len; i++) {
        char ch = a.s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

static int ends_with_loss(const char *s)
{
    size_t n = strlen(s);
    return n >= 4 && !strcmp(s + n - 4, "loss");
}

/* Parses one rule option `key[=val]` into r. */
static sw_status rule_option(parser *ps, sw_rule *r, span part, span item)
{
    span key, val;
    split_eq(part, &key, &val);
    const char *rn = sw_rule_kind_name(r->kind);
    unsigned bit = 0;
    if (r->kind == SW_RULE_PATIENCE && span_eq(key, "min_delta")) bit = SW_OPT_MIN_DELTA;
    else if ((r->kind == SW_RULE_PQ || r->kind == SW_RULE_UP) && span_eq(key, "k")) bit = SW_OPT_K;
    else if (r->kind == SW_RULE_GAIN && span_eq(key, "window")) bit = SW_OPT_WINDOW;
    else if (r->kind == SW_RULE_EXTRAPOLATE && span_eq(key, "z")) bit = SW_OPT_Z;
    else if (r->kind == SW_RULE_EXTRAPOLATE && span_eq(key, "min_points")) bit = SW_OPT_MIN_POINTS;
    else if (r->kind == SW_RULE_EXTRAPOLATE && span_eq(key, "at")) bit = SW_OPT_AT;
    else if (r->kind == SW_RULE_DIVERGE && span_eq(key, "max")) bit = SW_OPT_MAX;
    else if (r->kind == SW_RULE_DIVERGE && span_eq(key, "factor")) bit = SW_OPT_FACTOR;
    else if (r->kind == SW_RULE_DIVERGE && span_eq(key, "on")) bit = SW_OPT_ON;
    if (!bit) {
        static const char *opts[] = {
            [SW_RULE_PATIENCE] = "min_delta", [SW_RULE_TARGET] = "none", [SW_RULE_DIVERGE] = "max, factor, on",
            [SW_RULE_GL] = "none", [SW_RULE_PQ] = "k", [SW_RULE_UP] = "k", [SW_RULE_GAIN] = "window",
            [SW_RULE_EXTRAPOLATE] = "z, min_points, at"};
        char msg[128];
        snprintf(msg, sizeof msg, "unknown option for %s (its options: %s)", rn, opts[r->kind]);
        return fail(ps, key, item, "%s", msg);
    }
    if (r->set & bit) return fail(ps, key, item, "option given twice%s", NULL);
    if (!val.s || val.len == 0) {
        char kb[64];
        span_copy(key, kb, sizeof kb);
        return fail(ps, part, item, "option %s needs a value (key=value)", kb);
    }
    r->set |= bit;
    long long i;
    switch (bit) {
    case SW_OPT_MIN_DELTA: {
        span num = val;
        if (num.len && num.s[num.len - 1] == '%') {
            r->relative = 1;
            num.len--;
        }
        if (!span_double(num, &r->min_delta) || r->min_delta < 0)
            return fail(ps, val, item, "min_delta needs a number >= 0, absolute (0.1) or relative (1%%)%s", NULL);
        break;
    }
    case SW_OPT_K:
        if (!span_int(val, 1, SW_STRIP_MAX, &i)) return fail(ps, val, item, "k needs a whole number of evaluations from 1 to 1000%s", NULL);
        r->k = (int)i;
        break;
    case SW_OPT_WINDOW:
        if (!span_int(val, 1, SW_STRIP_MAX, &i)) return fail(ps, val, item, "window needs a whole number of evaluations from 1 to 1000%s", NULL);
        r->window = (int)i;
        break;
    case SW_OPT_Z:
        if (!span_double(val, &r->z) || r->z < 0) return fail(ps, val, item, "z needs a number >= 0 (1.64: one-sided 95%%)%s", NULL);
        break;
    case SW_OPT_MIN_POINTS:
        if (!span_int(val, 4, 1000000, &i)) return fail(ps, val, item, "min_points needs a whole number >= 4%s", NULL);
        r->min_points = (int)i;
        break;
    case SW_OPT_AT:
        if (!span_tokens(val, &r->at) || r->at == 0) return fail(ps, val, item, "at needs a token count > 0 such as 20M%s", NULL);
        break;
    case SW_OPT_MAX:
        if (!span_double(val, &r->max_loss)) return fail(ps, val, item, "max needs a loss value (a number)%s", NULL);
        break;
    case SW_OPT_FACTOR:
        if (!span_double(val, &r->factor) || r->factor <= 1) return fail(ps, val, item, "factor needs a number > 1 (times the best loss)%s", NULL);
        break;
    case SW_OPT_ON:
        if (!valid_metric_name(val)) return fail(ps, val, item, "on needs a metric name (letters, digits, _ - .)%s", NULL);
        span_copy(val, r->on, sizeof r->on);
        break;
    }
    return SW_OK;
}

static sw_status parse_rule(parser *ps, sw_policy *p, sw_rule_kind kind, span name, span val, span item)
{
    if (p->n_rules >= SW_POLICY_MAX_RULES) return fail(ps, name, item, "too many rules (at most 16)%s", NULL);
    sw_rule *r = &p->rules[p->n_rules];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->k = 5;
    r->window = 5;
    r->z = 1.64;
    r->min_points = 6;
    strcpy(r->on, "train_loss");
    long long i;
    switch (kind) {
    case SW_RULE_DIVERGE:
        if (val.s) return fail(ps, val, item, "diverge takes no value; use diverge:max=X or diverge:factor=K%s", NULL);
        break;
    case SW_RULE_PATIENCE:
        if (!span_int(val, 1, 1000000000, &i)) return fail(ps, val.s ? val : name, item, "patience needs a whole number of evaluations >= 1 (patience=5)%s", NULL);
        r->value = (double)i;
        break;
    case SW_RULE_UP:
        if (!span_int(val, 1, 1000000, &i)) return fail(ps, val.s ? val : name, item, "up needs a whole number of strips >= 1 (up=3)%s", NULL);
        r->value = (double)i;
        break;
    case SW_RULE_TARGET:
        if (!span_double(val, &r->value)) return fail(ps, val.s ? val : name, item, "target needs a value of the monitored metric (target=90)%s", NULL);
        break;
    default: /* gl, pq, gain, extrapolate: a threshold >= 0 */
        if (!span_double(val, &r->value) || r->value < 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s needs a threshold >= 0 (%s=%s)", sw_rule_kind_name(kind), sw_rule_kind_name(kind),
                     kind == SW_RULE_GAIN ? "0.2" : kind == SW_RULE_EXTRAPOLATE ? "0.5" : kind == SW_RULE_PQ ? "0.5" : "5");
            return fail(ps, val.s ? val : name, item, "%s", msg);
        }
        break;
    }
    p->n_rules++;
    return SW_OK;
}

static sw_status parse_cooldown(parser *ps, sw_policy *p, span val, const span *parts, size_t np, span item);

/* Parses one item: a rule (group g+1 when inside groups[g], else 0) or,
 * outside groups, a global. */
static sw_status parse_item(parser *ps, sw_policy *p, span item, unsigned *globals, int group)
{
    /* split at ':' into parts; the first is NAME[=VALUE] */
    span parts[16];
    size_t np = 0, start = 0;
    for (size_t k = 0; k <= item.len; k++) {
        if (k == item.len || item.s[k] == ':') {
            if (np == 16) return fail(ps, item, item, "too many options%s", NULL);
            parts[np++] = (span){item.s + start, k - start, item.off + start};
            start = k + 1;
        }
    }
    span name, val;
    split_eq(parts[0], &name, &val);
    for (size_t k = 1; k < np; k++)
        if (parts[k].len == 0) return fail(ps, parts[k], item, "empty option after ':'%s", NULL);

    static const struct { const char *name; sw_rule_kind kind; } rules[] = {
        {"patience", SW_RULE_PATIENCE}, {"target", SW_RULE_TARGET}, {"diverge", SW_RULE_DIVERGE},
        {"gl", SW_RULE_GL}, {"pq", SW_RULE_PQ}, {"up", SW_RULE_UP}, {"gain", SW_RULE_GAIN},
        {"extrapolate", SW_RULE_EXTRAPOLATE}};
    for (size_t k = 0; k < sizeof rules / sizeof *rules; k++) {
        if (!span_eq(name, rules[k].name)) continue;
        if (group && rules[k].kind == SW_RULE_DIVERGE)
            return fail(ps, name, item, "diverge cannot be inside a group (it always stops on its own); write it beside the group%s", NULL);
        sw_status st = parse_rule(ps, p, rules[k].kind, name, val, item);
        if (st) return st;
        p->rules[p->n_rules - 1].group = group;
        for (size_t o = 1; o < np; o++)
            if ((st = rule_option(ps, &p->rules[p->n_rules - 1], parts[o], item))) return st;
        return SW_OK;
    }

    /* globals */
    static const char *gnames[] = {"monitor", "warmup", "budget", "every", "cooldown"};
    for (unsigned g = 0; g < 5; g++) {
        if (!span_eq(name, gnames[g])) continue;
        if (group) return fail(ps, name, item, "%s is a global; it cannot be inside a group", gnames[g]);
        if (*globals & (1u << g)) return fail(ps, name, item, "%s given twice", gnames[g]);
        *globals |= 1u << g;
        if (g == 0) {
            if (!val.s || !valid_metric_name(val))
                return fail(ps, val.s ? val : name, item, "monitor needs a metric name (monitor=val_em or monitor=val_loss:min)%s", NULL);
            span_copy(val, p->monitor, sizeof p->monitor);
            p->monitor_set = 1;
            p->maximize = !ends_with_loss(p->monitor);
            if (np > 2) return fail(ps, parts[2], item, "monitor takes one option, max or min%s", NULL);
            if (np == 2) {
                if (span_eq(parts[1], "max")) p->maximize = 1;
                else if (span_eq(parts[1], "min")) p->maximize = 0;
                else return fail(ps, parts[1], item, "monitor's mode must be max or min%s", NULL);
                p->mode_set = 1;
            }
            return SW_OK;
        }
        if (g == 4) return parse_cooldown(ps, p, val, parts, np, item);
        if (g == 1 && np == 2 && span_eq(parts[1], "ignore")) {
            p->warmup_ignore = 1;
        } else if (np > 1) {
            if (g == 1) return fail(ps, parts[1], item, "warmup's only option is ignore (warmup=1M:ignore)%s", NULL);
            return fail(ps, parts[1], item, "%s takes no options", gnames[g]);
        }
        uint64_t t;
        if (!span_tokens(val, &t) || (g == 2 && t == 0))
            return fail(ps, val.s ? val : name, item, "%s needs a token count such as 1M, 500k or 20000", gnames[g]);
        if (g == 1 && p->warmup_ignore && t == 0)
            return fail(ps, val, item, "warmup=0:ignore ignores nothing; give a token count > 0%s", NULL);
        if (g == 1) p->warmup = t;
        else if (g == 2) p->budget = t;
        else p->every = t;
        return SW_OK;
    }
    if (span_eq(name, "none")) return fail(ps, name, item, "'none' must be the whole policy%s", NULL);
    return fail(ps, name, item,
                "unknown rule; expected patience, target, diverge, gl, pq, up, gain, extrapolate, "
                "all(...), any(...), Kof(...), or monitor, warmup, budget, every, cooldown%s", NULL);
}

/* cooldown=C[:shape=linear|sqrt], C in (0, 1]. */
static sw_status parse_cooldown(parser *ps, sw_policy *p, span val, const span *parts, size_t np, span item)
{
    if (!val.s || !span_double(val, &p->cooldown) || !(p->cooldown > 0 && p->cooldown <= 1))
        return fail(ps, val.s ? val : parts[0], item,
                    "cooldown needs a fraction of the tokens so far in (0, 1] (cooldown=0.1:shape=sqrt)%s", NULL);
    for (size_t k = 1; k < np; k++) {
        span key, v;
        split_eq(parts[k], &key, &v);
        if (!span_eq(key, "shape")) return fail(ps, key, item, "cooldown's only option is shape=linear|sqrt%s", NULL);
        if (p->cooldown_shape_set) return fail(ps, key, item, "option given twice%s", NULL);
        if (v.s && span_eq(v, "linear")) p->cooldown_shape = SW_COOLDOWN_LINEAR;
        else if (v.s && span_eq(v, "sqrt")) p->cooldown_shape = SW_COOLDOWN_SQRT;
        else return fail(ps, v.s ? v : key, item, "shape must be linear or sqrt (1-sqrt decay)%s", NULL);
        p->cooldown_shape_set = 1;
    }
    return SW_OK;
}

/* A group head "all", "any" or "Kof" (K a whole number >= 1): 1 if it is
 * one, with form and K (0 for all and any). */
static int group_head(span h, int *form, long long *k)
{
    *k = 0;
    if (span_eq(h, "all")) return *form = SW_GROUP_ALL, 1;
    if (span_eq(h, "any")) return *form = SW_GROUP_ANY, 1;
    if (h.len > 2 && !memcmp(h.s + h.len - 2, "of", 2) && span_int((span){h.s, h.len - 2, h.off}, 1, SW_POLICY_MAX_RULES, k))
        return *form = SW_GROUP_KOF, 1;
    return 0;
}

/* all(r1,r2,...), any(...) or Kof(...): members are rules, no globals, no
 * diverge, no nesting. */
static sw_status parse_group(parser *ps, sw_policy *p, span item, unsigned *globals)
{
    const char *open = memchr(item.s, '(', item.len);
    span head = {item.s, (size_t)(open - item.s), item.off};
    int form;
    long long k;
    if (!group_head(head, &form, &k))
        return fail(ps, head, item, "unknown group; expected all(...), any(...) or Kof(...) such as 2of(...)%s", NULL);
    if (item.s[item.len - 1] != ')')
        return fail(ps, item, item, "a group ends with ')' and nothing after it%s", NULL);
    if (p->n_groups >= SW_POLICY_MAX_GROUPS) return fail(ps, head, item, "too many groups (at most 8)%s", NULL);
    span inner = {open + 1, item.len - head.len - 2, item.off + head.len + 1};
    if (inner.len == 0) return fail(ps, item, item, "empty group; list its rules inside the parentheses%s", NULL);
    int g = p->n_groups;
    sw_rule_group *gr = &p->groups[g];
    gr->form = form;
    gr->first = p->n_rules;
    size_t start = 0;
    for (size_t q = 0; q <= inner.len; q++) {
        if (q < inner.len && (inner.s[q] == '(' || inner.s[q] == ')'))
            return fail(ps, (span){inner.s + q, 1, inner.off + q}, item, "groups do not nest%s", NULL);
        if (q < inner.len && inner.s[q] != ',') continue;
        span m = {inner.s + start, q - start, inner.off + start};
        if (m.len == 0)
            return fail(ps, (span){inner.s + (q < inner.len ? q : q - 1), 1, inner.off + (q < inner.len ? q : q - 1)}, item,
                        "empty rule in a group (two commas, or a comma at an end)%s", NULL);
        sw_status st = parse_item(ps, p, m, globals, g + 1);
        if (st) return st;
        start = q + 1;
    }
    gr->count = p->n_rules - gr->first;
    gr->need = form == SW_GROUP_ALL ? gr->count : form == SW_GROUP_ANY ? 1 : (int)k;
    if (gr->need > gr->count) {
        char msg[96];
        snprintf(msg, sizeof msg, "%lldof needs at least %lld rules; the group has %d", k, k, gr->count);
        return fail(ps, head, item, "%s", msg);
    }
    p->n_groups++;
    return SW_OK;
}

sw_status sw_policy_parse(const char *text, sw_policy **out, sw_error *err)
{
    return sw_policy_parse_located(text, out, NULL, NULL, err);
}

sw_status sw_policy_parse_located(const char *text, sw_policy **out, size_t *column, size_t *width, sw_error *err)
{
    *out = NULL;
    if (column) *column = 0;
    if (width) *width = 0;
    if (!text) return sw_error_set(err, SW_ERR_INVALID, "policy: no text");
    sw_policy *p = calloc(1, sizeof *p);
    if (!p) return sw_error_set(err, SW_ERR_NOMEM, "policy: out of memory");
    strcpy(p->monitor, "val_em");
    p->maximize = 1;
    parser ps = {text, err, 0, 0};
    size_t n = strlen(text);
    sw_status st = SW_OK;
    if (n == 0) {
        st = sw_error_set(err, SW_ERR_INVALID, "policy: empty; write 'none' for a policy with no rules");
    } else if (strcmp(text, "none") != 0) {
        for (size_t k = 0; k < n; k++) {
            if (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' || text[k] == '\r') {
                span all = {text, n, 0};
                st = fail(&ps, (span){text + k, 1, k}, all, "whitespace is not allowed in a policy%s", NULL);
                break;
            }
        }
        unsigned globals = 0;
        size_t start = 0;
        int depth = 0;
        span all = {text, n, 0};
        for (size_t k = 0; !st && k <= n; k++) {
            if (k < n && text[k] == '(') depth++;
            if (k < n && text[k] == ')' && --depth < 0)
                st = fail(&ps, (span){text + k, 1, k}, all, "')' without its '('%s", NULL);
            if (st || (k < n && (text[k] != ',' || depth > 0))) continue;
            if (k == n && depth > 0) {
                st = fail(&ps, (span){text + n - 1, 1, n - 1}, all, "a group's '(' is never closed with ')'%s", NULL);
                break;
            }
            span item = {text + start, k - start, start};
            if (item.len == 0)
                st = fail(&ps, (span){text + (k < n ? k : n - 1), 1, k < n ? k : n - 1}, all, "empty rule (two commas, or a comma at an end)%s", NULL);
            else if (memchr(item.s, '(', item.len))
                st = parse_group(&ps, p, item, &globals);
            else
                st = parse_item(&ps, p, item, &globals, 0);
            start = k + 1;
        }
    }
    if (st) {
        free(p);
        if (column) *column = ps.column;
        if (width) *width = ps.width;
        return st;
    }
    *out = p;
    return SW_OK;
}

void sw_policy_free(sw_policy *p) { free(p); }

/* Appends to buf at *pos, snprintf-style (keeps counting past cap). */
static void put(char *buf, size_t cap, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos < cap) {
        size_t room = cap - *pos - 1;
        memcpy(buf + *pos, s, n < room ? n : room);
    }
    *pos += n;
}

/* Appends ":name=value", the value as text, a number or a whole number. */
static void put_opt(char *buf, size_t cap, size_t *pos, const char *name, const char *value)
{
    put(buf, cap, pos, ":");
    put(buf, cap, pos, name);
    put(buf, cap, pos, "=");
    put(buf, cap, pos, value);
}

static void put_num(char *buf, size_t cap, size_t *pos, const char *name, double v)
{
    char num[64];
    put_opt(buf, cap, pos, name, sw_format_double(v, num, sizeof num));
}

static void put_int(char *buf, size_t cap, size_t *pos, const char *name, int v)
{
    char num[32];
    snprintf(num, sizeof num, "%d", v);
    put_opt(buf, cap, pos, name, num);
}

/* Appends rule r's text (name, value, the options that were written). */
static void format_rule(const sw_rule *r, char *buf, size_t cap, size_t *pos)
{
    char num[64];
    put(buf, cap, pos, sw_rule_kind_name(r->kind));
    if (r->kind != SW_RULE_DIVERGE) {
        sw_format_double(r->value, num, sizeof num);
        put(buf, cap, pos, "=");
        put(buf, cap, pos, num);
    }
    if (r->set & SW_OPT_MIN_DELTA) {
        put_num(buf, cap, pos, "min_delta", r->min_delta);
        if (r->relative) put(buf, cap, pos, "%");
    }
    if (r->set & SW_OPT_MAX) put_num(buf, cap, pos, "max", r->max_loss);
    if (r->set & SW_OPT_FACTOR) put_num(buf, cap, pos, "factor", r->factor);
    if (r->set & SW_OPT_ON) put_opt(buf, cap, pos, "on", r->on);
    if (r->set & SW_OPT_K) put_int(buf, cap, pos, "k", r->k);
    if (r->set & SW_OPT_WINDOW) put_int(buf, cap, pos, "window", r->window);
    if (r->set & SW_OPT_Z) put_num(buf, cap, pos, "z", r->z);
    if (r->set & SW_OPT_MIN_POINTS) put_int(buf, cap, pos, "min_points", r->min_points);
    if (r->set & SW_OPT_AT) put_opt(buf, cap, pos, "at", sw_format_tokens_exact(r->at, 3, num, sizeof num));
}

size_t sw_policy_format(const sw_policy *p, char *buf, size_t cap)
{
    size_t pos = 0;
    char num[64], tmp[128];
    int items = 0;
    for (int i = 0; i < p->n_rules; i++) {
        const sw_rule *r = &p->rules[i];
        const sw_rule_group *g = r->group ? &p->groups[r->group - 1] : NULL;
        if (!g || i == g->first) {
            if (items++) put(buf, cap, &pos, ",");
        } else {
            put(buf, cap, &pos, ",");
        }
        if (g && i == g->first) {
            if (g->form == SW_GROUP_ALL) put(buf, cap, &pos, "all(");
            else if (g->form == SW_GROUP_ANY) put(buf, cap, &pos, "any(");
            else {
                snprintf(tmp, sizeof tmp, "%dof(", g->need);
                put(buf, cap, &pos, tmp);
            }
        }
        format_rule(r, buf, cap, &pos);
        if (g && i == g->first + g->count - 1) put(buf, cap, &pos, ")");
    }
    if (p->monitor_set) {
        if (items++) put(buf, cap, &pos, ",");
        snprintf(tmp, sizeof tmp, "monitor=%s%s", p->monitor, p->mode_set ? (p->maximize ? ":max" : ":min") : "");
        put(buf, cap, &pos, tmp);
    }
    const struct { const char *name; uint64_t v; } g[] = {{"warmup", p->warmup}, {"budget", p->budget}, {"every", p->every}};
    for (int k = 0; k < 3; k++) {
        if (!g[k].v) continue;
        if (items++) put(buf, cap, &pos, ",");
        sw_format_tokens_exact(g[k].v, 3, num, sizeof num);
        snprintf(tmp, sizeof tmp, "%s=%s%s", g[k].name, num, k == 0 && p->warmup_ignore ? ":ignore" : "");
        put(buf, cap, &pos, tmp);
    }
    if (p->cooldown > 0) {
        if (items++) put(buf, cap, &pos, ",");
        sw_format_double(p->cooldown, num, sizeof num);
        snprintf(tmp, sizeof tmp, "cooldown=%s%s%s", num, p->cooldown_shape_set ? ":shape=" : "",
                 p->cooldown_shape_set ? sw_cooldown_shape_name((sw_cooldown_shape)p->cooldown_shape) : "");
        put(buf, cap, &pos, tmp);
    }
    if (!items) put(buf, cap, &pos, "none");
    if (cap) buf[pos < cap ? pos : cap - 1] = 0;
    return pos;
}

const char *sw_policy_monitor(const sw_policy *p) { return p->monitor; }
int sw_policy_maximize(const sw_policy *p) { return p->maximize; }
uint64_t sw_policy_warmup(const sw_policy *p) { return p->warmup; }
uint64_t sw_policy_budget(const sw_policy *p) { return p->budget; }
uint64_t sw_policy_every(const sw_policy *p) { return p->every; }
int sw_policy_warmup_ignores(const sw_policy *p) { return p->warmup_ignore; }
size_t sw_policy_n_groups(const sw_policy *p) { return (size_t)p->n_groups; }

int sw_policy_rule_group(const sw_policy *p, size_t i)
{
    return i < (size_t)p->n_rules ? p->rules[i].group - 1 : -1;
}

int sw_policy_group(const sw_policy *p, size_t g, size_t *first, size_t *count, size_t *need)
{
    if (g >= (size_t)p->n_groups) return 0;
    const sw_rule_group *gr = &p->groups[g];
    if (first) *first = (size_t)gr->first;
    if (count) *count = (size_t)gr->count;
    if (need) *need = (size_t)gr->need;
    return 1;
}

int sw_policy_cooldown(const sw_policy *p, double *frac, sw_cooldown_shape *shape)
{
    if (!(p->cooldown > 0)) return 0;
    if (frac) *frac = p->cooldown;
    if (shape) *shape = (sw_cooldown_shape)p->cooldown_shape;
    return 1;
}

const char *sw_cooldown_shape_name(sw_cooldown_shape s)
{
    return s == SW_COOLDOWN_SQRT ? "sqrt" : "linear";
}

sw_status sw_cooldown_shape_parse(const char *name, sw_cooldown_shape *out)
{
    if (name && !strcmp(name, "linear")) return *out = SW_COOLDOWN_LINEAR, SW_OK;
    if (name && !strcmp(name, "sqrt")) return *out = SW_COOLDOWN_SQRT, SW_OK;
    return SW_ERR_INVALID;
}

size_t sw_anneal_column(const char *metric, double frac, sw_cooldown_shape shape, char *buf, size_t cap)
{
    int n = sw_snprintf(buf, cap, "%s%s:c=%g:shape=%s", metric ? metric : "anneal_tokens",
                     metric ? "_annealed" : "", frac, sw_cooldown_shape_name(shape));
    return n < 0 ? 0 : (size_t)n;
}
size_t sw_policy_n_rules(const sw_policy *p) { return (size_t)p->n_rules; }

sw_rule_kind sw_policy_rule(const sw_policy *p, size_t i)
{
    return i < (size_t)p->n_rules ? p->rules[i].kind : SW_RULE_NONE;
}

int sw_policy_needs(const sw_policy *p, const char *name)
{
    if (!strcmp(name, p->monitor)) return 1;
    for (int i = 0; i < p->n_rules; i++) {
        sw_rule_kind k = p->rules[i].kind;
        if ((k == SW_RULE_GL || k == SW_RULE_PQ || k == SW_RULE_UP) && !strcmp(name, "val_loss")) return 1;
        if (k == SW_RULE_PQ && !strcmp(name, "train_loss")) return 1;
    }
    return 0;
}
