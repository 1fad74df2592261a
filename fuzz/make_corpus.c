/* Writes the generated seeds of fuzz/corpus/: checkpoints (fuzz_checkpoint),
 * controller states (fuzz_state), online states (fuzz_online) and IDX pairs
 * in fuzz_idx's input layout. Usage: fuzz_make_corpus DIR (DIR/<target>/ must
 * exist). The text seeds (policies, CSV, lexicons, ...) are written by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "stopwise/stop.h"
#include "stopwise/train.h"
#include "stopwise/tune.h"

static const char *dir;

static void die(const char *what, const sw_error *err)
{
    fprintf(stderr, "fuzz_make_corpus: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static void put(const char *target, const char *name, const void *data, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f)) die(path, NULL);
}

static void checkpoint(const char *name, const char *spec_text, const char *const *kv, int n_kv, int with_opt)
{
    sw_error err;
    sw_model_spec spec;
    sw_model *m = NULL;
    if (sw_model_spec_parse(spec_text, &spec, &err) || sw_model_create(&spec, 1, &m, &err)) die(spec_text, &err);
    sw_optimizer *o = NULL;
    if (with_opt) {
        sw_optimizer_params p = sw_optimizer_default_params(SW_OPTIMIZER_ADAMW);
        if (sw_optimizer_create(&p, sw_model_num_params(m), &o, &err)) die("optimizer", &err);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint/%s", dir, name);
    if (sw_checkpoint_save(path, m, o, kv, n_kv, &err)) die(path, &err);
    sw_optimizer_free(o);
    sw_model_free(m);
}

static void state(const char *name, const char *policy_text, int evals)
{
    sw_error err;
    sw_policy *p = NULL;
    sw_controller *c = NULL;
    if (sw_policy_parse(policy_text, &p, &err) || sw_controller_create(p, 100000, &c, &err)) die(policy_text, &err);
    sw_policy_free(p);
    for (int i = 1; i <= evals && !sw_controller_stopped(c); i++) {
        double x = i;
        sw_metric m[3] = {{"val_em", 70 - 60.0 / x + (i % 3)}, {"val_loss", 1.0 / x + (i > 8 ? 0.05 * i : 0)},
                          {"train_loss", 1.0 / (x + 1)}};
        sw_eval ev = {(uint64_t)i * 2000, i, x, m, 3};
        sw_decision d;
        if (sw_controller_feed(c, &ev, &d)) die(sw_controller_errmsg(c), NULL);
    }
    size_t n = sw_controller_save(c, NULL, 0);
    char *buf = malloc(n + 1);
    sw_controller_save(c, buf, n + 1);
    put("state", name, buf, n);
    free(buf);
    sw_controller_free(c);
}

/* An IDX file: 00 00 TYPE NDIM, big-endian dims, then `bytes` data bytes. */
static size_t idx_file(unsigned char *out, unsigned char type, int ndim, const unsigned *dims, size_t bytes)
{
    size_t k = 0;
    out[k++] = 0, out[k++] = 0, out[k++] = type, out[k++] = (unsigned char)ndim;
    for (int d = 0; d < ndim; d++)
        for (int s = 24; s >= 0; s -= 8) out[k++] = (unsigned char)(dims[d] >> s);
    for (size_t i = 0; i < bytes; i++) out[k++] = (unsigned char)(i * 37 % 5);
    return k;
}

static size_t gzip_bytes(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/idx/.tmp.gz", dir);
    gzFile g = gzopen(path, "wb9");
    if (!g || gzwrite(g, in, (unsigned)n) != (int)n || gzclose(g) != Z_OK) die("gzip", NULL);
    FILE *f = fopen(path, "rb");
    size_t got = fread(out, 1, cap, f);
    fclose(f);
    remove(path);
    return got;
}

static void idx_pair(const char *name, int flags, const unsigned char *im, size_t ni, const unsigned char *lb, size_t nl)
{
    unsigned char buf[8192];
    buf[0] = (unsigned char)flags, buf[1] = (unsigned char)(ni & 0xff), buf[2] = (unsigned char)(ni >> 8);
    memcpy(buf + 3, im, ni);
    memcpy(buf + 3 + ni, lb, nl);
    put("idx", name, buf, 3 + ni + nl);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_make_corpus DIR\n");
        return 2;
    }
    dir = argv[1];

    const char *vocab = "{\"version\":1,\"target_mode\":\"space\",\"input\":[\"a\",\"b\",\"c\"],\"target\":[\"x\",\"y1\"]}";
    const char *labels = "{\"version\":1,\"num_features\":3,\"feature_scale\":1,\"names\":[\"cat\",\"dog\"]}";
    const char *gpt_kv[] = {"vocab", vocab, "task", "sequence"};
    const char *mlp_kv[] = {"labels", labels, "task", "classify", "train_state", "{\"tokens\":100}"};
    checkpoint("gpt.safetensors", "gpt:layers=1,d=8,heads=2,ctx=4,vocab=9", gpt_kv, 2, 0);
    checkpoint("mlp-opt.safetensors", "mlp:hidden=4,act=gelu,inputs=3,classes=2", mlp_kv, 3, 1);
    checkpoint("mlp-untied.safetensors", "mlp:hidden=2x3,inputs=3,classes=2", mlp_kv, 2, 0);

    state("patience", "patience=3:min_delta=0.1%,diverge", 6);
    state("prechelt", "gl=5,pq=0.5:k=2,up=2:k=2,warmup=4k", 9);
    state("extrapolate", "extrapolate=0.5:min_points=4,gain=0.1:window=2,budget=40k", 12);
    state("stopped", "patience=1", 5);
    state("empty", "none", 0);

    sw_online_state os;
    sw_online_init(&os, 100000, 4, 0.5);
    char *j = sw_online_to_json(&os);
    put("online", "fresh.json", j, strlen(j));
    free(j);
    char pol[256];
    int audit;
    for (int i = 0; i < 6; i++) {
        sw_online_next(&os, pol, sizeof pol, &audit);
        if (audit) sw_online_apply(&os, i ? 0.2 : 0.1, i == 4 ? 0.9 : 0.3, 0.6);
    }
    j = sw_online_to_json(&os);
    put("online", "audited.json", j, strlen(j));
    free(j);

    unsigned char im[2048], lb[256], gz[4096];
    unsigned dims3[3] = {6, 2, 3}, dims1[1] = {6}, dims2[2] = {4, 3};
    size_t ni = idx_file(im, 0x08, 3, dims3, 36), nl = idx_file(lb, 0x08, 1, dims1, 6);
    idx_pair("u8-pair", 0, im, ni, lb, nl);
    idx_pair("u8-with-test", 1, im, ni, lb, nl);
    size_t ng = gzip_bytes(im, ni, gz, sizeof gz);
    idx_pair("u8-gzip", 0, gz, ng, lb, nl);
    ni = idx_file(im, 0x0D, 2, dims2, 48);
    nl = idx_file(lb, 0x0B, 1, (unsigned[]){4}, 8);
    idx_pair("f32-i16", 0, im, ni, lb, nl);
    ni = idx_file(im, 0x0E, 2, dims2, 96);
    nl = idx_file(lb, 0x0C, 1, (unsigned[]){4}, 16);
    idx_pair("f64-i32", 1, im, ni, lb, nl);
    return 0;
}
