/* Fuzz target: checkpoints, safetensors header and body (train/checkpoint.c),
 * with the metadata they carry (the model spec; the vocabulary or class
 * list, data/vocab.c and data/classes.c). The input is the file. A
 * checkpoint that loads must save and load back with the same parameters,
 * optimizer state and metadata. */
#include "fuzz_common.h"
#include "stopwise/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200], out[4200];
    fuzz_file("a", data, size, path, sizeof path);
    sw_checkpoint ck, back;
    sw_error err;
    err.msg[0] = 0;
    if (sw_checkpoint_load(path, &ck, &err) != SW_OK) {
        FUZZ_CHECK(err.msg[0] && ck.model == NULL);
        return 0;
    }
    FUZZ_CHECK(ck.model && ck.meta_json);
    const char *vocab = sw_checkpoint_meta(&ck, "vocab"), *labels = sw_checkpoint_meta(&ck, "labels");
    if (vocab) {
        sw_vocab *v = NULL;
        if (sw_vocab_from_json(vocab, &v, &err) == SW_OK) {
            char *j = sw_vocab_to_json(v);
            FUZZ_CHECK(j);
            free(j);
            sw_vocab_free(v);
        } else {
            FUZZ_CHECK(err.msg[0] && v == NULL);
        }
    }
    if (labels) {
        sw_classes *c = NULL;
        if (sw_classes_from_json(labels, &c, &err) == SW_OK) {
            char *j = sw_classes_to_json(c);
            FUZZ_CHECK(j);
            free(j);
            sw_classes_free(c);
        } else {
            FUZZ_CHECK(err.msg[0] && c == NULL);
        }
    }
    /* save (without the optimizer: its state belongs to an sw_optimizer) and reload */
    const char *kv[4] = {"vocab", vocab ? vocab : "", "labels", labels ? labels : ""};
    fuzz_path("out", out, sizeof out);
    FUZZ_CHECK(sw_checkpoint_save(out, ck.model, NULL, kv, 2, &err) == SW_OK);
    FUZZ_CHECK(sw_checkpoint_load(out, &back, &err) == SW_OK);
    size_t n = sw_model_num_params(ck.model);
    FUZZ_CHECK(sw_model_num_params(back.model) == n);
    FUZZ_CHECK(memcmp(sw_model_params(ck.model), sw_model_params(back.model), n * sizeof(float)) == 0);
    const char *vb = sw_checkpoint_meta(&back, "vocab");
    FUZZ_CHECK(vb && !strcmp(vb, vocab ? vocab : ""));
    sw_checkpoint_free(&back);
    sw_checkpoint_free(&ck);
    return 0;
}
