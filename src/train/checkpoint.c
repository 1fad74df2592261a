/* Checkpoints in the safetensors format (https://github.com/huggingface/safetensors):
 *   [8 bytes: u64 little-endian N][N bytes: JSON header][raw tensor data]
 * The header maps each tensor name to {"dtype","shape","data_offsets":[begin,end]}
 * (offsets relative to the data section) plus "__metadata__", a map of strings.
 * Readers check every size against the file before allocating anything. */
#include "stopwise/train.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint I/O writes host floats as little-endian: add byte swapping for this host"
#endif

/* A header larger than this is not one of ours (ours are a few kB plus the vocabulary). */
#define SW_MAX_HEADER (64u << 20)
#define OPTIMIZER_TENSOR "optimizer.state"
#define AVERAGE_TENSOR "average.state"

static json_t *tensor_entry(const int64_t *shape, int ndim, size_t begin, size_t bytes)
{
    json_t *sh = json_array();
    for (int d = 0; d < ndim; d++) json_array_append_new(sh, json_integer(shape[d]));
    return json_pack("{s:s, s:o, s:[I,I]}", "dtype", "F32", "shape", sh, "data_offsets", (json_int_t)begin,
                     (json_int_t)(begin + bytes));
}

sw_status sw_checkpoint_save(const char *path, sw_model *model, sw_optimizer *opt, const char *const *meta_kv,
                             int n_meta, sw_error *err)
{
    return sw_checkpoint_save_with(path, model, opt, NULL, 0, meta_kv, n_meta, err);
}

sw_status sw_checkpoint_save_with(const char *path, sw_model *model, sw_optimizer *opt, const float *average,
                                  size_t average_count, const char *const *meta_kv, int n_meta, sw_error *err)
{
    json_t *root = json_object(), *meta = json_object();
    char spec[512];
    json_object_set_new(meta, "format", json_string("stopwise"));
    json_object_set_new(meta, "stopwise_version", json_string(sw_version()));
    json_object_set_new(meta, "model", json_string(sw_model_spec_format(sw_model_get_spec(model), spec, sizeof spec)));
    for (int i = 0; i < n_meta; i++) json_object_set_new(meta, meta_kv[2 * i], json_string(meta_kv[2 * i + 1]));
    json_object_set_new(root, "__metadata__", meta);
    size_t offset = 0;
    int nt = sw_model_num_tensors(model);
    for (int i = 0; i < nt; i++) {
        sw_tensor_info t;
        sw_model_tensor(model, i, &t);
        json_object_set_new(root, t.name, tensor_entry(t.shape, t.ndim, offset, t.numel * sizeof(float)));
        offset += t.numel * sizeof(float);
    }
    size_t opt_count = 0;
    float *opt_state = opt ? sw_optimizer_state(opt, &opt_count) : NULL;
    if (opt_state) {
        int64_t shape[1] = {(int64_t)opt_count};
        json_object_set_new(root, OPTIMIZER_TENSOR, tensor_entry(shape, 1, offset, opt_count * sizeof(float)));
        offset += opt_count * sizeof(float);
    }
    if (average && average_count) {
        int64_t shape[1] = {(int64_t)average_count};
        json_object_set_new(root, AVERAGE_TENSOR, tensor_entry(shape, 1, offset, average_count * sizeof(float)));
    }
    char *header = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    if (!header) return sw_error_set(err, SW_ERR_NOMEM, "%s: cannot build the header", path);
    size_t hlen = strlen(header), padded = (hlen + 7) & ~(size_t)7; /* 8-byte aligned data */
    sw_atomic_file f;
    sw_status st = sw_atomic_file_open(&f, path, err);
    if (st) {
        free(header);
        return st;
    }
    FILE *fp = sw_atomic_file_fp(&f);
    uint64_t n = padded;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(n >> (8 * i));
    int ok = fwrite(len8, 1, 8, fp) == 8 && fwrite(header, 1, hlen, fp) == hlen;
    for (size_t i = hlen; ok && i < padded; i++) ok = fputc(' ', fp) != EOF;
    free(header);
    const float *params = sw_model_params(model);
    for (int i = 0; ok && i < nt; i++) {
        sw_tensor_info t;
        sw_model_tensor(model, i, &t);
        ok = fwrite(params + t.offset, sizeof(float), t.numel, fp) == t.numel;
    }
    if (ok && opt_state) ok = fwrite(opt_state, sizeof(float), opt_count, fp) == opt_count;
    if (ok && average && average_count) ok = fwrite(average, sizeof(float), average_count, fp) == average_count;
    if (!ok) {
        sw_atomic_file_abort(&f);
        return sw_error_set(err, SW_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    return sw_atomic_file_commit(&f, err);
}

/* Reads tensor `name` from the header: checks dtype, shape (if want_shape),
 * and that its bytes lie inside the data section. */
static sw_status find_tensor(const char *path, json_t *root, const char *name, const int64_t *want_shape, int ndim,
                             size_t numel, uint64_t data_len, size_t *begin, sw_error *err)
{
    json_t *e = json_object_get(root, name);
    if (!json_is_object(e))
        return sw_error_set(err, SW_ERR_FORMAT, "%s: header has no tensor '%s' (expected by the model spec)", path,
                            name);
    const char *dtype = json_string_value(json_object_get(e, "dtype"));
    if (!dtype || strcmp(dtype, "F32"))
        return sw_error_set(err, SW_ERR_FORMAT, "%s: tensor '%s': dtype %s, expected F32", path, name,
                            dtype ? dtype : "(missing)");
    json_t *shape = json_object_get(e, "shape"), *off = json_object_get(e, "data_offsets");
    if (!json_is_array(shape) || (want_shape && (int)json_array_size(shape) != ndim))
        return sw_error_set(err, SW_ERR_FORMAT, "%s: tensor '%s': shape has the wrong rank, expected %d", path, name,
                            ndim);
    for (int d = 0; want_shape && d < ndim; d++) {
        json_t *v = json_array_get(shape, (size_t)d);
        if (!json_is_integer(v) || json_integer_value(v) != want_shape[d])
            return sw_error_set(err, SW_ERR_FORMAT,
                                "%s: tensor '%s': dimension %d is not %lld as the model spec requires", path, name,
                                d, (long long)want_shape[d]);
    }
    if (!json_is_array(off) || json_array_size(off) != 2 || !json_is_integer(json_array_get(off, 0)) ||
        !json_is_integer(json_array_get(off, 1)))
        return sw_error_set(err, SW_ERR_FORMAT, "%s: tensor '%s': data_offsets must be [begin, end]", path, name);
    json_int_t b = json_integer_value(json_array_get(off, 0)), e2 = json_integer_value(json_array_get(off, 1));
    if (b < 0 || e2 < b || (uint64_t)e2 > data_len || (uint64_t)(e2 - b) != numel * sizeof(float))
        return sw_error_set(err, SW_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%lld, %lld] do not hold %zu floats inside the %llu-byte "
                            "data section",
                            path, name, (long long)b, (long long)e2, numel, (unsigned long long)data_len);
    *begin = (size_t)b;
    return SW_OK;
}

/* Reads the optional flat tensor `name` (optimizer or average state): a
 * malloc'd copy in *out and its length, or NULL and 0 when absent. */
static sw_status read_flat(const char *path, FILE *fp, json_t *root, uint64_t hlen, uint64_t data_len,
                           const char *name, float **out, size_t *count_out, sw_error *err)
{
    json_t *t = json_object_get(root, name);
    if (!t) return SW_OK;
    json_t *shape = json_object_get(t, "shape");
    json_int_t count = json_integer_value(json_array_get(shape, 0));
    size_t begin;
    if (count <= 0 || (uint64_t)count > data_len / sizeof(float))
        return sw_error_set(err, SW_ERR_FORMAT, "%s: tensor '%s': size %lld does not fit the file", path, name,
                            (long long)count);
    sw_status st = find_tensor(path, root, name, NULL, 1, (size_t)count, data_len, &begin, err);
    if (st) return st;
    *count_out = (size_t)count;
    *out = malloc(sizeof(float) * (size_t)count);
    if (!*out || fseeko(fp, (off_t)(8 + hlen + begin), SEEK_SET) ||
        fread(*out, sizeof(float), (size_t)count, fp) != (size_t)count)
        return sw_error_set(err, SW_ERR_FORMAT, "%s: tensor '%s': truncated data", path, name);
    return SW_OK;
}

sw_status sw_checkpoint_load(const char *path, sw_checkpoint *out, sw_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) return sw_error_set(err, errno == ENOENT ? SW_ERR_NOT_FOUND : SW_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    char *header = NULL;
    json_t *root = NULL;
    sw_status st = SW_OK;
    unsigned char len8[8];
    if (fstat(fileno(fp), &sb) != 0 || fread(len8, 1, 8, fp) != 8) {
        st = sw_error_set(err, SW_ERR_FORMAT, "%s: offset 0: truncated, expected an 8-byte header length", path);
        goto fail;
    }
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)len8[i] << (8 * i);
    uint64_t fsize = (uint64_t)sb.st_size;
    if (hlen < 2 || hlen > SW_MAX_HEADER || hlen > fsize - 8) {
        st = sw_error_set(err, SW_ERR_FORMAT,
                          "%s: offset 0: header length %llu is impossible for a %llu-byte file (expected at most %u "
                          "and inside the file)",
                          path, (unsigned long long)hlen, (unsigned long long)fsize, SW_MAX_HEADER);
        goto fail;
    }
    header = malloc(hlen);
    if (!header || fread(header, 1, hlen, fp) != hlen) {
        st = sw_error_set(err, SW_ERR_FORMAT, "%s: offset 8: truncated header", path);
        goto fail;
    }
    json_error_t je;
    root = json_loadb(header, hlen, 0, &je);
    if (!json_is_object(root)) {
        st = sw_error_set(err, SW_ERR_FORMAT, "%s: offset %llu: header is not a JSON object: %s", path,
                          (unsigned long long)(8 + (je.position > 0 ? (uint64_t)je.position : 0)), je.text);
        goto fail;
    }
    json_t *meta = json_object_get(root, "__metadata__");
    const char *format = json_string_value(json_object_get(meta, "format"));
    const char *spec_text = json_string_value(json_object_get(meta, "model"));
    if (!format || strcmp(format, "stopwise") || !spec_text) {
        st = sw_error_set(err, SW_ERR_FORMAT,
                          "%s: header __metadata__ lacks format=stopwise and a model spec: not a stopwise checkpoint",
                          path);
        goto fail;
    }
    sw_model_spec spec;
    sw_error e2;
    if (sw_model_spec_parse(spec_text, &spec, &e2) || sw_model_spec_check(&spec, &e2)) {
        st = sw_error_set(err, SW_ERR_FORMAT, "%s: header model spec: %s", path, e2.msg);
        goto fail;
    }
    uint64_t data_len = fsize - 8 - hlen;
    /* the header's own promise, checked before the model is allocated: its
     * parameters must fit the data section (a hostile header could name a
     * model of terabytes) */
    uint64_t n_params;
    if ((st = sw_model_spec_num_params(&spec, &n_params, &e2))) {
        st = sw_error_set(err, st, "%s: header model spec: %s", path, e2.msg);
        goto fail;
    }
    if (n_params > data_len / sizeof(float)) {
        st = sw_error_set(err, SW_ERR_FORMAT,
                          "%s: offset %llu: header model spec '%s' has %llu parameters (%llu bytes), more than the "
                          "%llu-byte data section holds (truncated or not this model's checkpoint)",
                          path, (unsigned long long)(8 + hlen), spec_text, (unsigned long long)n_params, (unsigned long long)n_params * 4ull,
                          (unsigned long long)data_len);
        goto fail;
    }
    st = sw_model_create(&spec, 0, &out->model, err);
    if (st) goto fail;
    float *params = sw_model_params(out->model);
    int nt = sw_model_num_tensors(out->model);
    for (int i = 0; i < nt; i++) {
        sw_tensor_info t;
        size_t begin;
        sw_model_tensor(out->model, i, &t);
        st = find_tensor(path, root, t.name, t.shape, t.ndim, t.numel, data_len, &begin, err);
        if (st) goto fail;
        if (fseeko(fp, (off_t)(8 + hlen + begin), SEEK_SET) || fread(params + t.offset, sizeof(float), t.numel, fp) != t.numel) {
            st = sw_error_set(err, SW_ERR_FORMAT, "%s: tensor '%s': truncated data", path, t.name);
            goto fail;
        }
    }
    if ((st = read_flat(path, fp, root, hlen, data_len, OPTIMIZER_TENSOR, &out->optimizer_state,
                        &out->optimizer_count, err)))
        goto fail;
    if ((st = read_flat(path, fp, root, hlen, data_len, AVERAGE_TENSOR, &out->average_state, &out->average_count,
                        err)))
        goto fail;
    out->meta_json = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
    out->meta = json_incref(meta);
    json_decref(root);
    free(header);
    fclose(fp);
    return SW_OK;
fail:
    json_decref(root);
    free(header);
    fclose(fp);
    sw_checkpoint_free(out);
    return st;
}

const char *sw_checkpoint_meta(const sw_checkpoint *ckpt, const char *key)
{
    return json_string_value(json_object_get(ckpt->meta, key));
}

void sw_checkpoint_free(sw_checkpoint *ckpt)
{
    if (!ckpt) return;
    sw_model_free(ckpt->model);
    free(ckpt->meta_json);
    free(ckpt->optimizer_state);
    free(ckpt->average_state);
    json_decref(ckpt->meta);
    memset(ckpt, 0, sizeof *ckpt);
}
