/* Fuzz target: learning curves in CSV (stop/curve.c). A curve that parses
 * must write and read back the same (tokens, steps, walls, every metric
 * cell, missing cells included), and replaying fixed policies over it must
 * give well-formed results. */
#include "fuzz_stop.h"

static int same(double x, double y) { return (isnan(x) && isnan(y)) || x == y; }

static void replay(const char *text, const sw_curve *c)
{
    sw_policy *p = NULL;
    sw_error err;
    FUZZ_CHECK(sw_policy_parse(text, &p, &err) == SW_OK);
    sw_replay_result r;
    if (sw_replay(p, c, &r, &err) == SW_OK) {
        size_t n = sw_curve_len(c);
        FUZZ_CHECK(r.stop_index < n && r.best_index <= r.stop_index);
        FUZZ_CHECK(r.stop_tokens == sw_curve_tokens(c)[r.stop_index]);
        FUZZ_CHECK(r.end_tokens == sw_curve_tokens(c)[n - 1] && r.saved_tokens == r.end_tokens - r.stop_tokens);
    } else {
        FUZZ_CHECK(err.msg[0]);
    }
    sw_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_curve *c = NULL;
    sw_error err;
    err.msg[0] = 0;
    if (sw_curve_parse_csv((const char *)data, size, "fuzz.csv", &c, &err) != SW_OK) {
        FUZZ_CHECK(c == NULL && err.msg[0]);
        return 0;
    }
    char path[4200];
    fuzz_path("out", path, sizeof path);
    FUZZ_CHECK(sw_curve_write_csv(c, path, &err) == SW_OK);
    sw_curve *d = NULL;
    FUZZ_CHECK(sw_curve_read_csv(path, &d, &err) == SW_OK);
    size_t n = sw_curve_len(c);
    FUZZ_CHECK(sw_curve_len(d) == n && sw_curve_n_columns(d) == sw_curve_n_columns(c));
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(sw_curve_tokens(d)[i] == sw_curve_tokens(c)[i]);
        FUZZ_CHECK(i == 0 || sw_curve_tokens(c)[i] > sw_curve_tokens(c)[i - 1]);
        FUZZ_CHECK(sw_curve_steps(d)[i] == sw_curve_steps(c)[i]);
        FUZZ_CHECK(same(sw_curve_walls(d)[i], sw_curve_walls(c)[i]));
    }
    for (size_t k = 0; k < sw_curve_n_columns(c); k++) {
        const char *name = sw_curve_column_name(c, k);
        FUZZ_CHECK(!strcmp(name, sw_curve_column_name(d, k)));
        const unsigned char *pc, *pd;
        const double *vc = sw_curve_column(c, name, &pc), *vd = sw_curve_column(d, name, &pd);
        FUZZ_CHECK(vc && vd);
        for (size_t i = 0; i < n; i++) FUZZ_CHECK(pc[i] == pd[i] && (!pc[i] || same(vc[i], vd[i])));
    }
    sw_curve_free(d);
    if (n) {
        replay("patience=3:min_delta=0.1%,diverge,target=99", c);
        replay("gl=5,pq=0.5:k=2,up=2:k=2,monitor=val_loss", c);
        replay("gain=0.5:window=2,extrapolate=0.5:min_points=4", c);
    }
    sw_curve_free(c);
    return 0;
}
