/* Helpers shared by the tests that load data (test_data_*.c and others). */
#ifndef SW_TEST_DATA_HELPERS_H
#define SW_TEST_DATA_HELPERS_H
#include <criterion/criterion.h>
#include <stdio.h>
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

/* Writes plain IDX files DIR/PREFIX-images-idx3-ubyte (n x h x w bytes from a
 * seeded generator) and DIR/PREFIX-labels-idx1-ubyte (label i % 10), the names
 * fashion-mnist's loader looks for (PREFIX train or t10k). */
static inline void write_idx_images(const char *dir, const char *prefix, uint32_t n, uint32_t h, uint32_t w,
                                    uint64_t seed)
{
    char path[4200];
    sw_rng r;
    sw_rng_seed(&r, seed);
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    uint32_t dims[3] = {n, h, w};
    uint8_t hdr[16] = {0, 0, 0x08, 3};
    for (int d = 0; d < 3; d++)
        for (int b = 0; b < 4; b++) hdr[4 + 4 * d + b] = (uint8_t)(dims[d] >> (24 - 8 * b));
    fwrite(hdr, 1, 16, f);
    for (size_t i = 0; i < (size_t)n * h * w; i++) fputc((int)(sw_rng_next(&r) % 256), f);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    uint8_t lh[8] = {0, 0, 0x08, 1, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    fwrite(lh, 1, 8, f);
    for (uint32_t i = 0; i < n; i++) fputc((int)(i % 10), f);
    fclose(f);
}

/* A fashion-mnist-shaped folder of random images (n train, n / 6 + 1 test);
 * returns the spec "fashion-mnist:DIR" (static). */
static inline const char *fashion_folder(const char *dir, uint32_t n, uint32_t h, uint32_t w)
{
    write_idx_images(dir, "train", n, h, w, 11);
    write_idx_images(dir, "t10k", n / 6 + 1, h, w, 12);
    static char spec[4200];
    snprintf(spec, sizeof spec, "fashion-mnist:%s", dir);
    return spec;
}
#endif
