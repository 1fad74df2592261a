/* IDX files (LeCun's MNIST format; Fashion-MNIST ships them gzipped):
 *   bytes 0-1  zero; byte 2 the element type (0x08 u8, 0x09 i8, 0x0B i16,
 *   0x0C i32, 0x0D f32, 0x0E f64); byte 3 the number of dimensions; then
 *   each dimension as a big-endian u32; then the data, big-endian, row-major.
 * Read through zlib's gzread, which reads gzip and plain files alike.
 *
 * Never trust the header with memory: the claimed size is checked against
 * the file (the exact length of a plain file; for gzip, deflate's maximum
 * ratio of 1032:1 times the compressed length) before anything is allocated,
 * and the data buffer then grows only as real bytes arrive. */
#include "data/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

typedef struct {
    const char *path;
    uint8_t type;
    int ndim;
    uint32_t dims[8];
    size_t esize, count, per; /* element size; dims[0]; product of the others */
    uint8_t *data;            /* count * per * esize bytes, big-endian */
} idx_file;

static size_t type_size(uint8_t t)
{
    switch (t) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    }
    return 0;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* Reads exactly n bytes unless the file ends; returns the count, or -1 on a
 * zlib error (message in *zmsg). */
static long long gz_read_full(gzFile g, void *buf, size_t n, const char **zmsg)
{
    size_t got = 0;
    while (got < n) {
        size_t chunk = n - got > (1u << 30) ? (1u << 30) : n - got;
        int r = gzread(g, (char *)buf + got, (unsigned)chunk);
        if (r < 0) {
            int e;
            *zmsg = gzerror(g, &e);
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long long)got;
}

static sw_status idx_read(const char *path, idx_file *f, sw_error *err)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    FILE *raw = fopen(path, "rb");
    if (!raw) {
        int e = errno;
        return sw_error_set(err, e == ENOENT || e == ENOTDIR ? SW_ERR_NOT_FOUND : SW_ERR_IO, "%s: cannot open: %s",
                            path, strerror(e));
    }
    struct stat sb;
    uint8_t m2[2] = {0, 0};
    int ok = fstat(fileno(raw), &sb) == 0;
    size_t flen = ok ? (size_t)sb.st_size : 0;
    int gz = fread(m2, 1, 2, raw) == 2 && m2[0] == 0x1f && m2[1] == 0x8b;
    fclose(raw);
    if (!ok) return sw_error_set(err, SW_ERR_IO, "%s: cannot stat", path);
    if (S_ISDIR(sb.st_mode)) return sw_error_set(err, SW_ERR_INVALID, "%s: expected a file, got a directory", path);

    gzFile g = gzopen(path, "rb");
    if (!g) return sw_error_set(err, SW_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    gzbuffer(g, 1 << 17);
    sw_status st = SW_OK;
    const char *zmsg = "";
    uint8_t hdr[4 + 4 * 8];
    long long got = gz_read_full(g, hdr, 4, &zmsg);
    if (got < 0) {
        st = sw_error_set(err, SW_ERR_FORMAT, "%s: byte offset 0: corrupt gzip data: %s", path, zmsg);
        goto done;
    }
    if (got < 4 || hdr[0] || hdr[1] || !type_size(hdr[2]) || hdr[3] < 1 || hdr[3] > 8) {
        char seen[64] = "";
        for (long long i = 0; i < got; i++) snprintf(seen + 3 * i, sizeof seen - 3 * (size_t)i, "%02x ", hdr[i]);
        st = sw_error_set(err, SW_ERR_FORMAT,
                          "%s: byte offset 0: expected the IDX magic 00 00 TYPE NDIM (TYPE 08/09/0b/0c/0d/0e, NDIM "
                          "1-8), got %s%s",
                          path, got ? seen : "an empty file", got && got < 4 ? "(end of data)" : "");
        goto done;
    }
    f->type = hdr[2];
    f->ndim = hdr[3];
    f->esize = type_size(f->type);
    size_t hlen = 4 + 4 * (size_t)f->ndim;
    got = gz_read_full(g, hdr + 4, hlen - 4, &zmsg);
    if (got < (long long)(hlen - 4)) {
        st = sw_error_set(err, SW_ERR_FORMAT, "%s: byte offset %lld: truncated header: expected %d dimension sizes", path,
                          4 + (got < 0 ? 0 : got), f->ndim);
        goto done;
    }
    /* claimed data size, with overflow checks: at most 2^40 elements */
    unsigned long long total = 1;
    for (int d = 0; d < f->ndim; d++) {
        f->dims[d] = be32(hdr + 4 + 4 * d);
        if (f->dims[d] > (1u << 31) || (f->dims[d] && total > (1ull << 40) / f->dims[d])) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s: byte offset %d: absurd header: dimension %d (%u) brings the data past 2^40 elements",
                              path, 4 + 4 * d, d, f->dims[d]);
            goto done;
        }
        total *= f->dims[d];
    }
    unsigned long long bytes = total * f->esize;
    unsigned long long limit = gz ? (unsigned long long)flen * 1032ull + 1024 : (unsigned long long)flen;
    if (bytes + hlen > limit) {
        st = sw_error_set(err, SW_ERR_FORMAT,
                          "%s: byte offset 4: the header claims %llu bytes of data (dimensions %u",
                          path, bytes, f->dims[0]);
        /* appended piece by piece; k stays inside the message (snprintf
         * returns the length it wanted, which may run past the end) */
        size_t k = strlen(err ? err->msg : "");
        for (int d = 1; err && d < f->ndim && k < sizeof err->msg - 1; d++) {
            int w = snprintf(err->msg + k, sizeof err->msg - k, " x %u", f->dims[d]);
            k = w < 0 ? sizeof err->msg - 1 : k + (size_t)w < sizeof err->msg ? k + (size_t)w : sizeof err->msg - 1;
        }
        if (err && k < sizeof err->msg - 1)
            snprintf(err->msg + k, sizeof err->msg - k, "), more than a %s file of %zu bytes can hold (truncated or corrupt)",
                     gz ? "gzip" : "plain", flen);
        goto done;
    }
    f->count = f->dims[0];
    f->per = (size_t)(f->count ? total / f->count : 0);
    if (f->ndim == 1) f->per = 1;
    /* read the data, growing the buffer only as bytes arrive */
    size_t cap = bytes < (1u << 24) ? (size_t)bytes : (1u << 24), have = 0;
    f->data = malloc(cap ? cap : 1);
    if (!f->data) {
        st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    while (have < bytes) {
        if (have == cap) {
            size_t nc = sw_array_grown_cap(cap, have + 1);
            if (nc > bytes) nc = (size_t)bytes;
            if (SW_ARRAY_RESIZE(f->data, nc)) {
                st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            cap = nc;
        }
        size_t want = cap - have;
        got = gz_read_full(g, f->data + have, want, &zmsg);
        if (got < 0) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s: byte offset %zu (uncompressed): corrupt or truncated gzip data: %s",
                              path, hlen + have, zmsg);
            goto done;
        }
        have += (size_t)got;
        if ((size_t)got < want) {
            st = sw_error_set(err, SW_ERR_FORMAT,
                              "%s: byte offset %zu: truncated: expected %llu bytes of data after the %zu-byte header, got %zu",
                              path, hlen + have, bytes, hlen, have);
            goto done;
        }
    }
    uint8_t extra;
    got = gz_read_full(g, &extra, 1, &zmsg);
    if (got != 0) {
        st = sw_error_set(err, SW_ERR_FORMAT, got < 0 ? "%s: byte offset %zu: corrupt gzip data after the IDX data"
                                                      : "%s: byte offset %zu: expected the end of the file after the IDX data",
                          path, hlen + (size_t)bytes);
        goto done;
    }
done:
    gzclose(g);
    if (st) {
        free(f->data);
        f->data = NULL;
    }
    return st;
}

/* Element j of an IDX file as a double. */
static double idx_value(const idx_file *f, size_t j)
{
    const uint8_t *p = f->data + j * f->esize;
    switch (f->type) {
    case 0x08: return p[0];
    case 0x09: return (int8_t)p[0];
    case 0x0B: return (int16_t)(uint16_t)(p[0] << 8 | p[1]);
    case 0x0C: return (int32_t)be32(p);
    case 0x0D: { uint32_t u = be32(p); float x; memcpy(&x, &u, 4); return x; }
    case 0x0E: {
        uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);
        double x;
        memcpy(&x, &u, 8);
        return x;
    }
    }
    return 0;
}

/* Checks an images/labels pair. */
static sw_status idx_check_pair(const idx_file *im, const idx_file *lb, sw_error *err)
{
    if (im->ndim < 2)
        return sw_error_set(err, SW_ERR_FORMAT, "%s: byte offset 3: expected images with at least 2 dimensions, got %d",
                            im->path, im->ndim);
    if (lb->ndim != 1 || lb->type == 0x0D || lb->type == 0x0E)
        return sw_error_set(err, SW_ERR_FORMAT,
                            "%s: byte offset 2: expected labels: 1 dimension of integers, got %d dimension(s) of type %02x",
                            lb->path, lb->ndim, lb->type);
    if (im->count != lb->count)
        return sw_error_set(err, SW_ERR_FORMAT, "%s: byte offset 4: %zu labels, but %s holds %zu images", lb->path,
                            lb->count, im->path, im->count);
    for (size_t i = 0; i < lb->count; i++) {
        double v = idx_value(lb, i);
        if (v < 0 || v >= 65536)
            return sw_error_set(err, SW_ERR_FORMAT, "%s: byte offset %zu: expected a label in [0, 65536), got %.17g",
                                lb->path, 8 + i * lb->esize, v);
    }
    return SW_OK;
}

sw_status sw_load_idx(sw_dataset *ds, const char *train_images, const char *train_labels, const char *test_images,
                      const char *test_labels, const sw_data_options *opt, sw_error *err)
{
    idx_file f[4];
    memset(f, 0, sizeof f);
    const char *paths[4] = {train_images, train_labels, test_images, test_labels};
    int nfiles = test_images ? 4 : 2;
    sw_status st = SW_OK;
    uint64_t *keys = NULL;
    ds->kind = SW_TASK_CLASSIFY;
    for (int i = 0; i < nfiles && !st; i++) st = idx_read(paths[i], &f[i], err);
    if (!st) st = idx_check_pair(&f[0], &f[1], err);
    if (!st && nfiles == 4) st = idx_check_pair(&f[2], &f[3], err);
    if (!st && nfiles == 4 && f[2].per != f[0].per)
        st = sw_error_set(err, SW_ERR_FORMAT, "%s: byte offset 8: %zu features per image, but %s has %zu", f[2].path,
                          f[2].per, f[0].path, f[0].per);
    if (st) goto done;
    size_t nf = f[0].per, rows = f[0].count + (nfiles == 4 ? f[2].count : 0);
    if (rows == 0) {
        st = sw_error_set(err, SW_ERR_INVALID, "%s: empty dataset: no images", train_images);
        goto done;
    }
    if (nf == 0 || nf > (1u << 26)) {
        st = sw_error_set(err, SW_ERR_FORMAT, "%s: byte offset 8: expected 1 to 2^26 features per image, got %zu",
                          train_images, nf);
        goto done;
    }
    double scale = f[0].type == 0x08 ? 1.0 / 255.0 : 1.0;
    ds->feat = malloc(rows * nf * sizeof *ds->feat);
    ds->label = malloc(rows * sizeof *ds->label);
    ds->src = malloc(rows * sizeof *ds->src);
    ds->src_test = calloc(rows, 1);
    keys = malloc(rows * sizeof *keys);
    if (!ds->feat || !ds->label || !ds->src || !ds->src_test || !keys) {
        st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", train_images);
        goto done;
    }
    int32_t maxlab = 0;
    size_t r = 0;
    for (int part = 0; part < nfiles / 2; part++) {
        const idx_file *im = &f[2 * part], *lb = &f[2 * part + 1];
        for (size_t i = 0; i < im->count; i++, r++) {
            float *x = ds->feat + r * nf;
            if (im->type == 0x08) {
                const uint8_t *p = im->data + i * nf;
                for (size_t j = 0; j < nf; j++) x[j] = (float)(p[j] * scale);
            } else {
                for (size_t j = 0; j < nf; j++) x[j] = (float)idx_value(im, i * nf + j);
            }
            ds->label[r] = (int32_t)idx_value(lb, i);
            if (ds->label[r] > maxlab) maxlab = ds->label[r];
            ds->src[r] = (uint32_t)i;
            ds->src_test[r] = (uint8_t)part;
            keys[r] = (uint64_t)i | (uint64_t)part << 40;
        }
    }
    if (opt->classes) {
        if (sw_classes_num_features(opt->classes) != (int)nf) {
            st = sw_error_set(err, SW_ERR_INVALID, "%s: the model expects %d features, the images have %zu", train_images,
                              sw_classes_num_features(opt->classes), nf);
            goto done;
        }
        if (maxlab >= sw_classes_count(opt->classes)) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s: label %d, but the model has %d classes", train_labels, maxlab,
                              sw_classes_count(opt->classes));
            goto done;
        }
        ds->classes = sw_classes_copy(opt->classes);
    } else {
        int k = maxlab + 1;
        char **names = malloc((size_t)k * sizeof *names);
        char *block = malloc((size_t)k * 12);
        if (names && block) {
            for (int c = 0; c < k; c++) {
                names[c] = block + 12 * c;
                snprintf(names[c], 12, "%d", c);
            }
            ds->classes = sw_classes_new((int)nf, scale, (const char *const *)names, k);
        }
        free(names);
        free(block);
    }
    if (!ds->classes) {
        st = sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory", train_images);
        goto done;
    }
    ds->n_rows = rows;
    ds->nf = (int)nf;
    if (f[0].ndim == 3) { /* images: count x height x width */
        ds->img_h = (int)f[0].dims[1];
        ds->img_w = (int)f[0].dims[2];
    }
    for (int i = 0; i < 4; i++) { /* the raw bytes are no longer needed: free before the split */
        free(f[i].data);
        f[i].data = NULL;
    }
    if (nfiles == 4) {
        double vf = opt->val_frac < 0 ? 0.1 : opt->val_frac;
        st = sw_split_assign(ds, keys, rows, ds->src_test, vf, 0, opt->max_examples, err);
    } else {
        free(ds->src_test);
        ds->src_test = NULL;
        /* without a test file, indices are "train:N" all the same */
        ds->src_test = calloc(rows, 1);
        if (!ds->src_test) {
            st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
            goto done;
        }
        double vf = opt->val_frac < 0 ? 0.05 : opt->val_frac;
        double tf = opt->test_frac < 0 ? 0.05 : opt->test_frac;
        /* pool_test all zero: no official test set */
        st = sw_split_assign(ds, keys, rows, NULL, vf, tf, opt->max_examples, err);
    }
    if (!st && !ds->name) {
        size_t n = strlen(train_images) + strlen(train_labels) + 8 +
                   (nfiles == 4 ? strlen(test_images) + strlen(test_labels) + 2 : 0);
        ds->name = malloc(n);
        if (!ds->name) st = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        else if (nfiles == 4) snprintf(ds->name, n, "idx:%s,%s,%s,%s", train_images, train_labels, test_images, test_labels);
        else snprintf(ds->name, n, "idx:%s,%s", train_images, train_labels);
    }
done:
    for (int i = 0; i < 4; i++) free(f[i].data);
    free(keys);
    return st;
}
