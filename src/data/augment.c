/* Label-preserving augmentation of training features (--augment); see data.h
 * and docs/LEVERS.md.
 *
 * Every draw comes from a generator seeded with a hash of (seed, round,
 * example), so one example's transformation does not depend on which other
 * examples share its batch, on the thread count, or on the order of calls: a
 * resumed run, or one at another thread count, sees the same pixels. */
#include "data/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { AUG_IMAGE = 1, AUG_NOISE } aug_kind;

struct sw_augment {
    aug_kind kind;
    uint64_t seed;
    int nf;
    /* image */
    int h, w, shift, flip;
    float *scratch; /* (nf) the row before the transformation */
    /* noise */
    double sigma;
    float *sd;      /* (nf) each feature's standard deviation over the training split */
    char text[128];
};

/* Data sets on which a left-right mirror keeps every label. Declared, not
 * guessed: a digit or a letter mirrored is another symbol or none, so a plain
 * idx:... data set is not on the list. fashion-mnist: T-shirt, trouser,
 * pullover, dress, coat, sandal, shirt, sneaker, bag and ankle boot are all
 * the same class mirrored (a left shoe mirrored is a right shoe). */
static const char *const flip_safe[] = {"fashion-mnist"};

int sw_data_flips_safe(const char *name)
{
    if (!name) return 0;
    for (size_t i = 0; i < sizeof flip_safe / sizeof *flip_safe; i++) {
        size_t n = strlen(flip_safe[i]);
        /* "fashion-mnist" and "fashion-mnist:DIR" */
        if (!strncmp(name, flip_safe[i], n) && (name[n] == 0 || name[n] == ':')) return 1;
    }
    return 0;
}

void sw_augment_free(sw_augment *a)
{
    if (!a) return;
    free(a->scratch);
    free(a->sd);
    free(a);
}

const char *sw_augment_text(const sw_augment *a) { return a ? a->text : "none"; }

static sw_status parse_image(const char *spec, const char *k, const char *v, sw_augment *a, sw_error *err)
{
    long long n;
    if (!strcmp(k, "shift")) {
        int lim = (a->h < a->w ? a->h : a->w) / 2;
        if (sw_parse_int(v, 0, lim, &n))
            return sw_error_set(err, SW_ERR_INVALID, "augment '%s': shift must be 0..%d pixels (half the image), got '%s'",
                                spec, lim, v);
        a->shift = (int)n;
        return SW_OK;
    }
    if (!strcmp(k, "flip")) {
        if (sw_parse_int(v, 0, 1, &n))
            return sw_error_set(err, SW_ERR_INVALID, "augment '%s': flip must be 0 or 1, got '%s'", spec, v);
        a->flip = (int)n;
        return SW_OK;
    }
    return sw_error_set(err, SW_ERR_INVALID, "augment '%s': unknown key '%s' (image takes shift and flip)", spec, k);
}

static sw_status parse_noise(const char *spec, const char *k, const char *v, sw_augment *a, sw_error *err)
{
    if (!strcmp(k, "sigma")) {
        if (sw_parse_double(v, &a->sigma) || !(a->sigma > 0 && a->sigma <= 10))
            return sw_error_set(err, SW_ERR_INVALID, "augment '%s': sigma must be in (0, 10], got '%s'", spec, v);
        return SW_OK;
    }
    return sw_error_set(err, SW_ERR_INVALID, "augment '%s': unknown key '%s' (noise takes sigma)", spec, k);
}

/* Each feature's standard deviation over the training split (two passes). */
static sw_status feature_sd(const sw_dataset *ds, sw_augment *a, sw_error *err)
{
    size_t n = sw_dataset_count(ds, SW_SPLIT_TRAIN);
    double *mean = calloc((size_t)a->nf, sizeof *mean), *var = calloc((size_t)a->nf, sizeof *var);
    a->sd = malloc(sizeof(float) * (size_t)a->nf);
    if (!mean || !var || !a->sd) {
        free(mean);
        free(var);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const float *x = sw_dataset_features(ds, SW_SPLIT_TRAIN, i);
        for (int j = 0; j < a->nf; j++) mean[j] += x[j];
    }
    for (int j = 0; j < a->nf; j++) mean[j] /= (double)(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        const float *x = sw_dataset_features(ds, SW_SPLIT_TRAIN, i);
        for (int j = 0; j < a->nf; j++) var[j] += (x[j] - mean[j]) * (x[j] - mean[j]);
    }
    for (int j = 0; j < a->nf; j++) a->sd[j] = (float)sqrt(var[j] / (double)(n ? n : 1));
    free(mean);
    free(var);
    return SW_OK;
}

static sw_status create(const char *spec, const sw_dataset *ds, sw_augment *a, sw_error *err)
{
    if (sw_dataset_kind(ds) == SW_TASK_SEQUENCE)
        return sw_error_set(err, SW_ERR_INVALID,
                            "augment '%s': %s is a sequence task, and no augmentation of a spelling is known to keep "
                            "its answer (a changed letter changes the pronunciation; docs/LEVERS.md)",
                            spec, sw_dataset_name(ds));
    const char *colon = strchr(spec, ':');
    size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
#define IS(k) (nlen == strlen(k) && !strncmp(spec, k, nlen))
    if (IS("mixup"))
        return sw_error_set(err, SW_ERR_INVALID,
                            "augment '%s': mixup needs soft labels (a mixture of two classes), which the mlp's loss "
                            "does not take; use image or noise (docs/LEVERS.md)",
                            spec);
    sw_status (*key)(const char *, const char *, const char *, sw_augment *, sw_error *);
    if (IS("image")) {
        if (!sw_dataset_image_shape(ds, &a->h, &a->w))
            return sw_error_set(err, SW_ERR_INVALID,
                                "augment '%s': %s has no 2-D images (image needs an IDX file of count x height x "
                                "width); use noise",
                                spec, sw_dataset_name(ds));
        a->kind = AUG_IMAGE;
        a->shift = 2;
        key = parse_image;
    } else if (IS("noise")) {
        a->kind = AUG_NOISE;
        a->sigma = 0.1;
        key = parse_noise;
    } else {
        return sw_error_set(err, SW_ERR_INVALID,
                            "augment '%s': expected none, image[:shift=P,flip=0|1] or noise[:sigma=S]", spec);
    }
#undef IS
    char buf[256];
    if (colon && strlen(colon + 1) >= sizeof buf) return sw_error_set(err, SW_ERR_INVALID, "augment '%.40s...': too long", spec);
    snprintf(buf, sizeof buf, "%s", colon ? colon + 1 : "");
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return sw_error_set(err, SW_ERR_INVALID, "augment '%s': expected key=value, got '%s'", spec, kv);
        *eq = 0;
        sw_status st = key(spec, kv, eq + 1, a, err);
        if (st) return st;
    }
    if (a->kind == AUG_IMAGE && a->flip && !sw_data_flips_safe(sw_dataset_name(ds)))
        return sw_error_set(err, SW_ERR_INVALID,
                            "augment '%s': left-right flips are not declared label-safe for %s (declared: "
                            "fashion-mnist); drop flip=1",
                            spec, sw_dataset_name(ds));
    if (a->kind == AUG_IMAGE) {
        snprintf(a->text, sizeof a->text, "image:shift=%d,flip=%d", a->shift, a->flip);
        a->scratch = malloc(sizeof(float) * (size_t)a->nf);
        if (!a->scratch) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        return SW_OK;
    }
    char s[32];
    snprintf(a->text, sizeof a->text, "noise:sigma=%s", sw_format_double(a->sigma, s, sizeof s));
    return feature_sd(ds, a, err);
}

sw_status sw_augment_create(const char *spec, const sw_dataset *ds, uint64_t seed, sw_augment **out, sw_error *err)
{
    *out = NULL;
    if (!spec || !*spec || !strcmp(spec, "none")) return SW_OK;
    sw_augment *a = calloc(1, sizeof *a);
    if (!a) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    a->seed = seed;
    a->nf = sw_dataset_num_features(ds);
    sw_status st = create(spec, ds, a, err);
    if (st) {
        sw_augment_free(a);
        return st;
    }
    *out = a;
    return SW_OK;
}

/* The generator of one (round, example). */
static void draw_rng(const sw_augment *a, uint64_t round, uint64_t example, sw_rng *r)
{
    sw_rng_seed(r, sw_hash3(sw_hash3(a->seed, SW_STREAM_AUGMENT, round), SW_STREAM_AUGMENT, example));
}

void sw_augment_image_draw(const sw_augment *a, uint64_t round, uint64_t example, int *dx, int *dy, int *flip)
{
    *dx = *dy = *flip = 0;
    if (!a || a->kind != AUG_IMAGE) return;
    sw_rng r;
    draw_rng(a, round, example, &r);
    uint64_t span = 2 * (uint64_t)a->shift + 1;
    *dx = (int)sw_rng_below(&r, span) - a->shift;
    *dy = (int)sw_rng_below(&r, span) - a->shift;
    *flip = a->flip ? (int)(sw_rng_next(&r) >> 63) : 0;
}

/* Two standard normals from one generator draw pair (Box-Muller, both outputs,
 * in float): the noise costs about as much as the training step otherwise. */
static void normal_pair(sw_rng *r, float *z0, float *z1)
{
    uint64_t b = sw_rng_next(r);
    float u1 = ((float)(b >> 40) + 0.5f) * (1.0f / 16777216.0f); /* (0, 1): never log(0) */
    float u2 = (float)((b >> 16) & 0xffffff) * (1.0f / 16777216.0f);
    float rad = sqrtf(-2.0f * logf(u1)), th = 6.2831853f * u2;
    *z0 = rad * cosf(th);
    *z1 = rad * sinf(th);
}

void sw_augment_row(sw_augment *a, float *x, uint64_t round, uint64_t example)
{
    if (!a) return;
    if (a->kind == AUG_NOISE) {
        sw_rng r;
        draw_rng(a, round, example, &r);
        float s = (float)a->sigma;
        for (int j = 0; j < a->nf; j += 2) {
            float z0, z1;
            normal_pair(&r, &z0, &z1);
            x[j] += s * a->sd[j] * z0;
            if (j + 1 < a->nf) x[j + 1] += s * a->sd[j + 1] * z1;
        }
        return;
    }
    int dx, dy, flip;
    sw_augment_image_draw(a, round, example, &dx, &dy, &flip);
    if (!dx && !dy && !flip) return;
    /* out(y, x) = in'(y - dy, x - dx), where in' is the input mirrored when
     * flip (in'(y, x) = in(y, w-1-x)); zero where that falls outside: padding
     * by `shift` zeros and cropping back at offset (shift - dy, shift - dx) */
    int H = a->h, W = a->w;
    memcpy(a->scratch, x, sizeof(float) * (size_t)a->nf);
    for (int y = 0; y < H; y++) {
        int sy = y - dy;
        for (int c = 0; c < W; c++) {
            int sx = c - dx;
            float v = 0;
            if (sy >= 0 && sy < H && sx >= 0 && sx < W) v = a->scratch[(size_t)sy * W + (flip ? W - 1 - sx : sx)];
            x[(size_t)y * W + c] = v;
        }
    }
}
