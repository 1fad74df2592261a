/* Helpers shared by the stop/ targets: a fixed run to feed a controller, and
 * the save/restore round trip. */
#ifndef STOPWISE_FUZZ_STOP_H
#define STOPWISE_FUZZ_STOP_H

#include <math.h>

#include "fuzz_common.h"
#include "stopwise/stop.h"

/* A controller's state must survive save -> restore -> save unchanged. */
static inline void fuzz_check_save_restore(const sw_controller *c)
{
    size_t n = sw_controller_save(c, NULL, 0);
    char *a = malloc(n + 1), *b = malloc(n + 1);
    FUZZ_CHECK(a && b);
    FUZZ_CHECK(sw_controller_save(c, a, n + 1) == n);
    sw_controller *d = NULL;
    sw_error err;
    FUZZ_CHECK(sw_controller_restore(a, n, &d, &err) == SW_OK);
    FUZZ_CHECK(sw_controller_save(d, b, n + 1) == n);
    FUZZ_CHECK(memcmp(a, b, n) == 0);
    FUZZ_CHECK(sw_controller_count(d) == sw_controller_count(c));
    FUZZ_CHECK(sw_controller_stopped(d) == sw_controller_stopped(c));
    sw_controller_free(d);
    free(a);
    free(b);
}

/* Feeds up to `count` evaluations after `tokens0`: a curve that rises, then
 * plateaus and wobbles, with one NaN late on. Every decision must be
 * well-formed; feeding stops at the first stop or error. */
static inline void fuzz_feed(sw_controller *c, uint64_t tokens0, int count, unsigned salt)
{
    for (int i = 1; i <= count; i++) {
        double x = (double)i;
        double em = 80.0 * (1.0 - exp(-x / 4.0)) + (double)((i * 7 + salt) % 5) * 0.3;
        double vl = 2.0 * exp(-x / 5.0) + 0.1 + (i > 10 ? 0.02 * (x - 10) : 0);
        double tl = 2.0 * exp(-x / 4.0) + 0.05;
        if (i == count - 1 && (salt & 1)) vl = NAN;
        sw_metric m[4] = {{"val_em", em}, {"val_loss", vl}, {"train_loss", tl}, {"loss", vl}};
        const char *name = sw_policy_monitor(sw_controller_policy(c));
        sw_metric all[5];
        memcpy(all, m, sizeof m);
        all[4] = (sw_metric){name, em};
        sw_eval ev = {tokens0 + (uint64_t)i * 1000, i, (double)i, all, 5};
        sw_decision d;
        sw_status st = sw_controller_feed(c, &ev, &d);
        if (st) {
            FUZZ_CHECK(sw_controller_errmsg(c)[0]);
            return;
        }
        FUZZ_CHECK(d.stop == 0 || d.stop == 1);
        FUZZ_CHECK(memchr(d.reason, 0, sizeof d.reason));
        FUZZ_CHECK(!d.stop || d.reason[0]);
        if (d.stop) {
            FUZZ_CHECK(sw_controller_stopped(c));
            return;
        }
    }
}

#endif
