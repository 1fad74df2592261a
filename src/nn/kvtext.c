/* The "kind:key=value,..." text form of optimizers and schedules. */
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
