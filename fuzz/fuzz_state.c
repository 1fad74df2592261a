/* Fuzz target: controller state restore (stop/state.c), the blob a resumed
 * run reads back from its checkpoint. A blob that restores must save to a
 * blob that restores to the same state, and the restored controller must
 * take further evaluations (or refuse them with a message) without reading
 * outside its history. */
#include "fuzz_stop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_controller *c = NULL;
    sw_error err;
    err.msg[0] = 0;
    if (sw_controller_restore((const char *)data, size, &c, &err) != SW_OK) {
        FUZZ_CHECK(c == NULL && err.msg[0]);
        return 0;
    }
    fuzz_check_save_restore(c);
    size_t n = sw_controller_count(c);
    size_t bi;
    uint64_t bt;
    double bv;
    if (sw_controller_best(c, &bi, &bt, &bv) == SW_OK) FUZZ_CHECK(bi < n && isfinite(bv));
    double mean, sd;
    uint64_t horizon;
    sw_controller_prediction(c, &mean, &sd, &horizon);
    /* continue after the last evaluation's tokens (read back from the save) */
    uint64_t last = 0;
    if (n) {
        size_t len = sw_controller_save(c, NULL, 0);
        char *blob = malloc(len + 1);
        FUZZ_CHECK(blob);
        sw_controller_save(c, blob, len + 1);
        const char *h = blob, *p;
        while ((p = strstr(h, "\nh ")) != NULL) h = p + 1;
        last = strtoull(h + 2, NULL, 10);
        free(blob);
    }
    if (last < UINT64_MAX - 100000) fuzz_feed(c, last, 6, (unsigned)size);
    fuzz_check_save_restore(c);
    sw_controller_free(c);
    return 0;
}
