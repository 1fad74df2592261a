/* Private to nn/: the "kind:key=value,key=value" text form shared by the
 * optimizer, schedule and pruning parsers. */
#ifndef SW_NN_KVTEXT_H
#define SW_NN_KVTEXT_H

#include <stddef.h>

/* Splits `text` into its kind (before ':') and its options. Returns 0 on
 * success, -1 if the kind does not fit in kind_len. *opts points after ':'
 * (or at the final NUL when there is none). */
int sw_kv_kind(const char *text, char *kind, size_t kind_len, const char **opts);

/* One kind of a parser's table: its enum value, its name and the keys it
 * takes (", "-separated, in canonical order). */
typedef struct sw_kv_kind_def {
    int kind;
    const char *name;
    const char *keys;
} sw_kv_kind_def;

/* Splits `text` as sw_kv_kind does and looks its kind up among kinds[0..n):
 * returns its index, or -1 for a kind not there or too long (*opts is then
 * unset). */
int sw_kv_find_kind(const char *text, const sw_kv_kind_def *kinds, size_t n, const char **opts);

/* Whether `key` is one of the ", "-separated `keys`. */
int sw_kv_takes_key(const char *keys, const char *key);

/* Takes the next "key=value" item from *cursor (items separated by ',').
 * Returns 1 with key/value filled (NUL-terminated copies), 0 at the end, -1
 * on an item without '=' or too long (item then holds the bad text). */
int sw_kv_next(const char **cursor, char *key, size_t key_len, char *value, size_t value_len,
               char *item, size_t item_len);

/* Numbers in these texts are parsed with sw_parse_double / sw_parse_tokens
 * and printed with sw_format_double / sw_format_tokens_exact(n, 0, ...)
 * (base.h), so they read back exactly whatever the process locale. */

#endif
