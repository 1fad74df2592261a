/* data/: the IDX loader (plain and gzip), its bad inputs, and the real
 * Fashion-MNIST files of Debian's dataset-fashion-mnist. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data_helpers.h"
#include "stopwise/data.h"
#include "support.h"

/* Writes an IDX file of type 0x08: dims then data (n bytes, may be fewer
 * than the dims claim). gz: gzip it. Returns a static path. */
static const char *write_idx(const char *dir, const char *name, int gz, const uint32_t *dims, int ndim,
                             const uint8_t *data, size_t n)
{
    static char path[32][4096];
    static int slot;
    char *p = path[slot++ % 32];
    snprintf(p, 4096, "%s/%s", dir, name);
    uint8_t hdr[4 + 32] = {0, 0, 0x08, (uint8_t)ndim};
    for (int d = 0; d < ndim; d++) {
        hdr[4 + 4 * d] = (uint8_t)(dims[d] >> 24);
        hdr[5 + 4 * d] = (uint8_t)(dims[d] >> 16);
        hdr[6 + 4 * d] = (uint8_t)(dims[d] >> 8);
        hdr[7 + 4 * d] = (uint8_t)dims[d];
    }
    if (gz) {
        gzFile g = gzopen(p, "wb");
        cr_assert_not_null(g);
        gzwrite(g, hdr, 4 + 4 * (unsigned)ndim);
        if (n) gzwrite(g, data, (unsigned)n);
        gzclose(g);
    } else {
        FILE *f = fopen(p, "wb");
        cr_assert_not_null(f);
        fwrite(hdr, 1, 4 + 4 * (size_t)ndim, f);
        if (n) fwrite(data, 1, n, f);
        fclose(f);
    }
    return p;
}

/* n images of 3x2 pixels, pixel j of image i = (7 i + j) % 256; labels i % 3. */
static void make_pair(const char *dir, const char *prefix, int gz, uint32_t n, const char **im, const char **lb)
{
    uint8_t *px = malloc(n * 6 + 1), *y = malloc(n + 1);
    for (uint32_t i = 0; i < n; i++) {
        for (int j = 0; j < 6; j++) px[i * 6 + j] = (uint8_t)((7 * i + (uint32_t)j) % 256);
        y[i] = (uint8_t)(i % 3);
    }
    char a[64], b[64];
    snprintf(a, sizeof a, "%s-images%s", prefix, gz ? ".gz" : "");
    snprintf(b, sizeof b, "%s-labels%s", prefix, gz ? ".gz" : "");
    uint32_t di[3] = {n, 3, 2}, dl[1] = {n};
    *im = write_idx(dir, a, gz, di, 3, px, n * 6);
    *lb = write_idx(dir, b, gz, dl, 1, y, n);
    free(px);
    free(y);
}

Test(data_idx, pairs_plain_and_gzip)
{
    const char *dir = sw_test_tmpdir();
    const char *im, *lb, *tim, *tlb;
    make_pair(dir, "train", 1, 100, &im, &lb);
    make_pair(dir, "test", 0, 20, &tim, &tlb);
    char spec[20000];
    snprintf(spec, sizeof spec, "idx:%s,%s,%s,%s", im, lb, tim, tlb);
    sw_data_options o = sw_data_default_options();
    sw_dataset *ds = load_ok(spec, &o);
    cr_assert_eq(sw_dataset_kind(ds), SW_TASK_CLASSIFY);
    /* the official test file is the test split; validation 10% of the training file */
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TEST), 20);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_VAL), 10);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 90);
    cr_assert_eq(sw_dataset_num_features(ds), 6);
    cr_assert_eq(sw_dataset_num_classes(ds), 3);
    cr_assert_str_eq(sw_dataset_class_name(ds, 2), "2");
    /* test split in file order: image i has pixel 0 = 7 i, scaled by 1/255 */
    for (size_t i = 0; i < 20; i++) {
        const float *x = sw_dataset_features(ds, SW_SPLIT_TEST, i);
        cr_assert_float_eq(x[0], (float)((7 * i) % 256) / 255.0f, 1e-6);
        cr_assert_float_eq(x[5], (float)((7 * i + 5) % 256) / 255.0f, 1e-6);
        cr_assert_eq(sw_dataset_label(ds, SW_SPLIT_TEST, i), (int32_t)(i % 3));
    }
    cr_assert_float_eq(sw_classes_feature_scale(sw_dataset_classes(ds)), 1.0 / 255.0, 1e-12);
    sw_dataset_free(ds);

    /* one pair only: a 90/5/5 split */
    snprintf(spec, sizeof spec, "idx:%s,%s", im, lb);
    ds = load_ok(spec, &o);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TEST), 5);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_VAL), 5);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 90);
    sw_dataset_free(ds);
    load_fails("idx:onlyone", &o, SW_ERR_INVALID, "idx:onlyone", NULL);
}

Test(data_idx, bad_files)
{
    const char *dir = sw_test_tmpdir();
    const char *im, *lb;
    make_pair(dir, "ok", 0, 50, &im, &lb);
    sw_data_options o = sw_data_default_options();
    char spec[20000];
    uint8_t px[600] = {0};

    /* truncated: 50 images claimed, 10 present (plain and gzip) */
    uint32_t d50[3] = {50, 3, 2};
    const char *tr = write_idx(dir, "trunc.idx", 0, d50, 3, px, 60);
    snprintf(spec, sizeof spec, "idx:%s,%s", tr, lb);
    load_fails(spec, &o, SW_ERR_FORMAT, "trunc.idx: byte offset", "claims 300 bytes");
    const char *trg = write_idx(dir, "trunc.gz", 1, d50, 3, px, 60);
    snprintf(spec, sizeof spec, "idx:%s,%s", trg, lb);
    load_fails(spec, &o, SW_ERR_FORMAT, "trunc.gz: byte offset 76", "truncated");
    /* a gzip stream cut short in the middle */
    {
        uint8_t *big = malloc(50 * 6);
        for (int i = 0; i < 300; i++) big[i] = (uint8_t)(i * 131 + (i >> 3));
        const char *full = write_idx(dir, "cut.gz", 1, d50, 3, big, 300);
        free(big);
        size_t n;
        char *bytes = sw_test_slurp(full, &n);
        FILE *f = fopen(full, "wb");
        fwrite(bytes, 1, n / 2, f);
        fclose(f);
        free(bytes);
        snprintf(spec, sizeof spec, "idx:%s,%s", full, lb);
        load_fails(spec, &o, SW_ERR_FORMAT, "cut.gz: byte offset", NULL);
    }
    /* extra bytes after the data */
    const char *ex = write_idx(dir, "extra.idx", 0, d50, 3, px, 301);
    snprintf(spec, sizeof spec, "idx:%s,%s", ex, lb);
    load_fails(spec, &o, SW_ERR_FORMAT, "extra.idx: byte offset 316", "end of the file");

    /* wrong magic */
    const char *wm = sw_test_write(dir, "magic.idx", "PK\x03\x04 this is not an IDX file");
    snprintf(spec, sizeof spec, "idx:%s,%s", wm, lb);
    load_fails(spec, &o, SW_ERR_FORMAT, "magic.idx: byte offset 0", "magic");
    const char *em = sw_test_write(dir, "empty.idx", "");
    snprintf(spec, sizeof spec, "idx:%s,%s", em, lb);
    load_fails(spec, &o, SW_ERR_FORMAT, "empty.idx: byte offset 0", "magic");

    /* absurd headers: never a huge allocation, an error at the header */
    uint32_t huge[3] = {200000000u, 28, 28};
    const char *ab = write_idx(dir, "absurd.idx", 0, huge, 3, px, 100);
    snprintf(spec, sizeof spec, "idx:%s,%s", ab, lb);
    load_fails(spec, &o, SW_ERR_FORMAT, "absurd.idx: byte offset", "claims");
    const char *abg = write_idx(dir, "absurd.gz", 1, huge, 3, px, 100);
    snprintf(spec, sizeof spec, "idx:%s,%s", abg, lb);
    load_fails(spec, &o, SW_ERR_FORMAT, "absurd.gz: byte offset", "claims");
    uint32_t over[4] = {0x80000000u, 0x80000000u, 0x80000000u, 4};
    const char *ov = write_idx(dir, "overflow.idx", 0, over, 4, px, 10);
    snprintf(spec, sizeof spec, "idx:%s,%s", ov, lb);
    load_fails(spec, &o, SW_ERR_FORMAT, "overflow.idx: byte offset 8", "absurd");
    uint32_t wide[2] = {0xFFFFFFFFu, 1};
    const char *wd = write_idx(dir, "wide.idx", 0, wide, 2, px, 10);
    snprintf(spec, sizeof spec, "idx:%s,%s", wd, lb);
    load_fails(spec, &o, SW_ERR_FORMAT, "wide.idx: byte offset 4", "absurd");

    /* images and labels disagree */
    const char *im40, *lb40;
    make_pair(dir, "forty", 0, 40, &im40, &lb40);
    snprintf(spec, sizeof spec, "idx:%s,%s", im, lb40);
    load_fails(spec, &o, SW_ERR_FORMAT, "forty-labels", "50 images");
    /* labels given as images */
    snprintf(spec, sizeof spec, "idx:%s,%s", im, im);
    load_fails(spec, &o, SW_ERR_FORMAT, "ok-images: byte offset", "labels");
    /* missing file, empty dataset */
    snprintf(spec, sizeof spec, "idx:%s/none.idx,%s", dir, lb);
    load_fails(spec, &o, SW_ERR_NOT_FOUND, "none.idx", NULL);
    uint32_t z3[3] = {0, 3, 2}, z1[1] = {0};
    const char *zi = write_idx(dir, "zero-images", 0, z3, 3, px, 0);
    const char *zl = write_idx(dir, "zero-labels", 0, z1, 1, px, 0);
    snprintf(spec, sizeof spec, "idx:%s,%s", zi, zl);
    load_fails(spec, &o, SW_ERR_INVALID, "zero-images", "empty");
    load_fails("fashion-mnist:/nonexistent/dir", &o, SW_ERR_NOT_FOUND, "/nonexistent/dir/train-images-idx3-ubyte", NULL);
}

/* The real files of Debian's dataset-fashion-mnist (scripts/setup.sh). */
Test(data_idx, real_fashion_mnist)
{
    sw_data_options o = sw_data_default_options();
    sw_dataset *ds = load_ok("fashion-mnist", &o);
    cr_assert_str_eq(sw_dataset_name(ds), "fashion-mnist");
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 54000);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_VAL), 6000);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TEST), 10000);
    cr_assert_eq(sw_dataset_num_features(ds), 784);
    cr_assert_eq(sw_dataset_num_classes(ds), 10);
    /* the test set is balanced: 1000 of each class */
    int per[10] = {0};
    for (size_t i = 0; i < 10000; i++) per[sw_dataset_label(ds, SW_SPLIT_TEST, i)]++;
    for (int c = 0; c < 10; c++) cr_assert_eq(per[c], 1000);
    float lo = 1, hi = 0;
    for (size_t i = 0; i < 100; i++) {
        const float *x = sw_dataset_features(ds, SW_SPLIT_TRAIN, i);
        for (int j = 0; j < 784; j++) {
            if (x[j] < lo) lo = x[j];
            if (x[j] > hi) hi = x[j];
        }
    }
    cr_assert_float_eq(lo, 0.0f, 1e-9);
    cr_assert_float_eq(hi, 1.0f, 1e-9);
    sw_dataset_free(ds);

    /* a subsample keeps the proportions */
    o.max_examples = 7000;
    ds = load_ok("fashion-mnist", &o);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TRAIN), 5400);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_VAL), 600);
    cr_assert_eq(sw_dataset_count(ds, SW_SPLIT_TEST), 1000);
    sw_dataset_free(ds);
}

/* The "claims N bytes" message appends one " x D" per dimension. With a path
 * that nearly fills the message, the running length used to pass the buffer's
 * end and the next append wrote past it (sizeof msg - k wrapped around). The
 * error sits in a struct with a guard zone behind it; the guard must stay
 * untouched and the message must stay a terminated string. */
Test(data_idx, long_path_with_many_dimensions_stays_inside_the_message)
{
    const char *dir = sw_test_tmpdir();
    char deep[4096];
    snprintf(deep, sizeof deep, "%s", dir);
    char part[101];
    memset(part, 'd', 100);
    part[100] = 0;
    while (strlen(deep) < 1000) { /* the path alone nearly fills the 1024-byte message */
        strcat(deep, "/");
        strcat(deep, part);
        cr_assert_eq(mkdir(deep, 0700), 0, "mkdir %s", deep);
    }
    uint32_t dims[6] = {50, 3, 2, 7, 11, 13};
    uint8_t px[60] = {0};
    const char *im = write_idx(deep, "many-dimensions.idx", 0, dims, 6, px, sizeof px);
    const char *unused, *lb;
    make_pair(dir, "labels", 0, 50, &unused, &lb);
    char spec[8192];
    snprintf(spec, sizeof spec, "idx:%s,%s", im, lb);
    struct {
        sw_error e;
        unsigned char guard[4096];
    } g;
    memset(&g, 0, sizeof g);
    memset(g.guard, 0xA5, sizeof g.guard);
    sw_data_options o = sw_data_default_options();
    sw_dataset *ds = NULL;
    cr_assert_eq(sw_dataset_load(spec, &o, &ds, &g.e), SW_ERR_FORMAT);
    cr_assert_null(ds);
    for (size_t i = 0; i < sizeof g.guard; i++) cr_assert_eq(g.guard[i], 0xA5, "byte %zu past the message was written", i);
    cr_assert_lt(strlen(g.e.msg), sizeof g.e.msg);
    cr_assert_eq(strncmp(g.e.msg, deep, strlen(g.e.msg) < strlen(deep) ? strlen(g.e.msg) : strlen(deep)), 0,
                 "the message names the file: %s", g.e.msg);
    cr_assert_gt(strlen(g.e.msg), 1000);
}
