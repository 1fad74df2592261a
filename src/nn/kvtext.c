/* The "kind:key=value,..." text form of optimizers, schedules and pruning. */
#include "nn/kvtext.h"

#include <string.h>

int sw_kv_kind(const char *text, char *kind, size_t kind_len, const char **opts)
{
    const char *colon = strchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    if (n >= kind_len) return -1;
    memcpy(kind, text, n);
    kind[n] = 0;
    *opts = colon ? colon + 1 : text + n;
    return 0;
}

int sw_kv_find_kind(const char *text, const sw_kv_kind_def *kinds, size_t n, const char **opts)
{
    char kind[16];
    if (sw_kv_kind(text, kind, sizeof kind, opts) < 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(kind, kinds[i].name)) return (int)i;
    return -1;
}

int sw_kv_takes_key(const char *keys, const char *key)
{
    size_t n = strlen(key);
    for (const char *s = keys; (s = strstr(s, key)) != NULL; s += n)
        if ((s == keys || s[-1] == ' ') && (s[n] == ',' || s[n] == 0)) return 1;
    return 0;
}

int sw_kv_next(const char **cursor, char *key, size_t key_len, char *value, size_t value_len,
               char *item, size_t item_len)
{
    const char *s = *cursor;
    if (!*s) return 0;
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : strlen(s);
    *cursor = comma ? comma + 1 : s + n;
    size_t shown = n < item_len ? n : item_len - 1;
    memcpy(item, s, shown);
    item[shown] = 0;
    const char *eq = memchr(s, '=', n);
    if (!eq) return -1;
    size_t kn = (size_t)(eq - s), vn = n - kn - 1;
    if (kn == 0 || kn >= key_len || vn >= value_len) return -1;
    memcpy(key, s, kn);
    key[kn] = 0;
    memcpy(value, eq + 1, vn);
    value[vn] = 0;
    return 1;
}
