/* Fuzz target: the online-state JSON (tune/online.c), read back from the
 * store at every online run. A state that reads must write to JSON that
 * reads to the same JSON, and the ladder walk (next run, audits, an audit
 * replayed over a fixed curve) must keep level and ceiling on the ladder. */
#include <math.h>

#include "fuzz_common.h"
#include "stopwise/tune.h"

static sw_curve *fixed_curve(void)
{
    sw_curve *c = NULL;
    sw_error err;
    FUZZ_CHECK(sw_curve_create(&c, &err) == SW_OK);
    for (int i = 1; i <= 30; i++) {
        double x = i;
        sw_metric m[3] = {{"val_em", 80.0 * (1.0 - exp(-x / 6.0)) + (i % 3) * 0.4},
                          {"val_loss", 2.0 * exp(-x / 6.0) + 0.1},
                          {"train_loss", 2.0 * exp(-x / 5.0)}};
        sw_eval ev = {(uint64_t)i * 1000, i, x, m, 3};
        FUZZ_CHECK(sw_curve_append(c, &ev, &err) == SW_OK);
    }
    return c;
}

static void check_ranges(const sw_online_state *s)
{
    FUZZ_CHECK(s->n_ladder >= 1 && s->n_ladder <= SW_ONLINE_MAX_LADDER);
    FUZZ_CHECK(s->level >= 0 && s->level < s->n_ladder);
    FUZZ_CHECK(s->ceiling >= 0 && s->ceiling < s->n_ladder);
    FUZZ_CHECK(s->n_history >= 0 && s->n_history <= SW_ONLINE_MAX_HISTORY);
    FUZZ_CHECK(s->audit_every >= 1 && s->runs >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_curve *curve;
    if (!curve) curve = fixed_curve();
    char *text = fuzz_cstr(data, size);
    sw_online_state s, t;
    sw_error err;
    err.msg[0] = 0;
    if (sw_online_from_json(text, &s, &err) != SW_OK) {
        FUZZ_CHECK(err.msg[0]);
        free(text);
        return 0;
    }
    check_ranges(&s);
    char *a = sw_online_to_json(&s);
    FUZZ_CHECK(a);
    FUZZ_CHECK(sw_online_from_json(a, &t, &err) == SW_OK);
    char *b = sw_online_to_json(&t);
    FUZZ_CHECK(b && !strcmp(a, b));
    char policy[256];
    int audit;
    for (int i = 0; i < 3; i++) {
        sw_online_next(&t, policy, sizeof policy, &audit);
        FUZZ_CHECK(audit == 0 || audit == 1);
        check_ranges(&t);
    }
    sw_online_apply(&t, 0.1, 0.2, 0.5);
    check_ranges(&t);
    sw_online_apply(&t, 1e9, NAN, 1.0);
    check_ranges(&t);
    if (sw_online_audit_curve(&t, curve, 30000, &err) != SW_OK) FUZZ_CHECK(err.msg[0]);
    check_ranges(&t);
    char *c = sw_online_to_json(&t);
    FUZZ_CHECK(c);
    free(a);
    free(b);
    free(c);
    free(text);
    return 0;
}
