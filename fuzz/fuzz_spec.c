/* Fuzz target: the model, optimizer and schedule text forms (nn/spec.c,
 * nn/optimizer_parse.c, nn/schedule.c, nn/kvtext.c); every input goes to all
 * three. A model spec or schedule that parses must print canonically and
 * read back to the same text; a parsed optimizer must pass its own check. */
#include <math.h>

#include "fuzz_common.h"
#include "stopwise/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    sw_error err;
    char a[1024], b[1024];

    sw_model_spec spec, spec2;
    err.msg[0] = 0;
    if (sw_model_spec_parse(text, &spec, &err) == SW_OK) {
        sw_model_spec_format(&spec, a, sizeof a);
        FUZZ_CHECK(strlen(a) + 1 < sizeof a);
        FUZZ_CHECK(sw_model_spec_parse(a, &spec2, &err) == SW_OK);
        sw_model_spec_format(&spec2, b, sizeof b);
        FUZZ_CHECK(!strcmp(a, b));
        sw_model_spec_check(&spec, &err);
    } else {
        FUZZ_CHECK(err.msg[0]);
    }

    sw_optimizer_params op;
    err.msg[0] = 0;
    if (sw_optimizer_params_parse(text, &op, &err) == SW_OK) {
        FUZZ_CHECK(op.kind == SW_OPTIMIZER_ADAMW || op.kind == SW_OPTIMIZER_SGD);
        sw_optimizer *o = NULL;
        FUZZ_CHECK(sw_optimizer_create(&op, 16, &o, &err) == SW_OK);
        float params[16], grads[16];
        for (int i = 0; i < 16; i++) params[i] = 0.1f * (float)i, grads[i] = 0.5f - 0.05f * (float)i;
        sw_optimizer_step(o, params, grads, 1e-3f, NULL);
        sw_optimizer_free(o);
    } else {
        FUZZ_CHECK(err.msg[0]);
    }

    sw_schedule sc, sc2;
    err.msg[0] = 0;
    if (sw_schedule_parse(text, &sc, &err) == SW_OK) {
        if (!sc.total) sc.total = 1000000; /* the caller fills it from the budget */
        sw_schedule_format(&sc, a, sizeof a);
        FUZZ_CHECK(strlen(a) + 1 < sizeof a);
        FUZZ_CHECK(sw_schedule_parse(a, &sc2, &err) == SW_OK);
        sw_schedule_format(&sc2, b, sizeof b);
        FUZZ_CHECK(!strcmp(a, b));
        static const uint64_t at[] = {0, 1, 999, 250000, 999999, 1000000, 5000000, UINT64_MAX};
        for (size_t i = 0; i < sizeof at / sizeof *at; i++) sw_schedule_lr(&sc, at[i]);
        sw_schedule_decay_now(&sc, 500000, 100000);
        for (size_t i = 0; i < sizeof at / sizeof *at; i++) sw_schedule_lr(&sc, at[i]);
    } else {
        FUZZ_CHECK(err.msg[0]);
    }
    free(text);
    return 0;
}
