/* A double in JSON: jansson's json_real refuses NaN and infinity (it returns
 * NULL, and a NULL value silently drops its key or crashes a dump), so every
 * layer that writes numbers writes a non-finite one as null and reads null
 * back as NaN. One helper instead of a copy per file.
 *
 * Why here: base/ is libc only by design, and store/ does not link jansson;
 * data/ is the lowest layer that does, and every user (train/, tune/, cli/)
 * sits above it. The header is internal (src/, not include/): a public one
 * would pull jansson into the library's API. */
#ifndef SW_DATA_JSON_NUM_H
#define SW_DATA_JSON_NUM_H

#include <jansson.h>

/* A new reference: a real for a finite v, else null (NULL only when out of
 * memory). */
json_t *sw_json_num(double v);

/* The inverse: a number's value, NaN for null. Anything else (a missing
 * value, a string, ...) reads as NaN and sets *bad when bad is not NULL. */
double sw_json_num_get(const json_t *x, int *bad);

#endif
