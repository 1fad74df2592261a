/* Private to nn/: the "kind:key=value,key=value" text form shared by the
 * optimizer and schedule parsers. */
#ifndef SW_NN_KVTEXT_H
#define SW_NN_KVTEXT_H

#include <stddef.h>

/* Splits `text` into its kind (before ':') and its options. Returns 0 on
 * success, -1 if the kind does not fit in kind_len. *opts points after ':'
 * (or at the final NUL when there is none). */
int sw_kv_kind(const char *text, char *kind, size_t kind_len, const char **opts);

/* Takes the next "key=value" item from *cursor (items separated by ',').
 * Returns 1 with key/value filled (NUL-terminated copies), 0 at the end, -1
 * on an item without '=' or too long (item then holds the bad text). */
int sw_kv_next(const char **cursor, char *key, size_t key_len, char *value, size_t value_len,
               char *item, size_t item_len);

/* Writes a double so that it reads back exactly: "%.15g" when that round-trips
 * (so 3e-3 stays "0.003"), else "%.17g". Locale-independent for the values
 * we print (no grouping; the C locale is never changed by the library). */
char *sw_kv_format_double(double v, char *buf, size_t len);

/* Writes a token count exactly: a k/M/G suffix only when it divides evenly
 * (sw_format_tokens rounds to 3 digits, which would not read back). */
char *sw_kv_format_tokens(unsigned long long n, char *buf, size_t len);

#endif
