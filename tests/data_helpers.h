/* Helpers shared by the test_data_*.c tests. */
#ifndef SW_TEST_DATA_HELPERS_H
#define SW_TEST_DATA_HELPERS_H
#include <criterion/criterion.h>
#include <string.h>

#include "stopwise/data.h"

/* Options that keep every example in the training split. */
static inline sw_data_options all_train(void)
{
    sw_data_options o = sw_data_default_options();
    o.val_frac = 0;
    o.test_frac = 0;
    return o;
}

static inline sw_dataset *load_ok(const char *spec, const sw_data_options *o)
{
    sw_dataset *ds = NULL;
    sw_error e = {0};
    sw_status st = sw_dataset_load(spec, o, &ds, &e);
    cr_assert_eq(st, SW_OK, "%s: status %d: %s", spec, st, e.msg);
    cr_assert_not_null(ds);
    return ds;
}

/* Loads a spec that must fail with `want`, a message containing every
 * non-NULL needle; returns nothing. */
static inline void load_fails(const char *spec, const sw_data_options *o, sw_status want, const char *n1, const char *n2)
{
    sw_dataset *ds = (sw_dataset *)1;
    sw_error e = {0};
    sw_status st = sw_dataset_load(spec, o, &ds, &e);
    cr_assert_eq(st, want, "%s: status %d, want %d (%s)", spec, st, want, e.msg);
    cr_assert_null(ds, "%s: *out must be NULL on failure", spec);
    if (n1) cr_assert(strstr(e.msg, n1), "%s: message \"%s\" lacks \"%s\"", spec, e.msg, n1);
    if (n2) cr_assert(strstr(e.msg, n2), "%s: message \"%s\" lacks \"%s\"", spec, e.msg, n2);
}

/* Index of the example whose input is `text` in split s, or -1. */
static inline long find_input(const sw_dataset *ds, sw_split s, const char *text)
{
    for (size_t i = 0; i < sw_dataset_count(ds, s); i++)
        if (strcmp(sw_dataset_input_text(ds, s, i), text) == 0) return (long)i;
    return -1;
}

/* 1 if example (s, i) has a reference with text `ref`. */
static inline int has_ref(const sw_dataset *ds, sw_split s, size_t i, const char *ref)
{
    for (int j = 0; j < sw_dataset_num_refs(ds, s, i); j++)
        if (strcmp(sw_dataset_ref_text(ds, s, i, j), ref) == 0) return 1;
    return 0;
}
#endif
