/* Test helper (header-only: only the tests that link train/ include it): a
 * checkpoint's parameters as a malloc'd copy, for byte comparisons, and the
 * comparison of two checkpoints' parameters. */
#ifndef SW_TEST_CHECKPOINT_PARAMS_H
#define SW_TEST_CHECKPOINT_PARAMS_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/nn.h"
#include "stopwise/train.h"

static inline void params_of(const char *path, float **p, size_t *n)
{
    sw_checkpoint ck;
    sw_error err;
    cr_assert_eq(sw_checkpoint_load(path, &ck, &err), SW_OK, "%s", err.msg);
    *n = sw_model_num_params(ck.model);
    *p = malloc(sizeof(float) * *n);
    memcpy(*p, sw_model_params(ck.model), sizeof(float) * *n);
    sw_checkpoint_free(&ck);
}

/* Asserts that the checkpoints at paths a and b hold the same parameters,
 * bit for bit; the message reads "<name> differs <when>". */
static inline void assert_same_params(const char *a, const char *b, const char *name, const char *when)
{
    float *pa, *pb;
    size_t na, nb;
    params_of(a, &pa, &na);
    params_of(b, &pb, &nb);
    cr_assert_eq(na, nb);
    cr_assert_eq(memcmp(pa, pb, sizeof(float) * na), 0, "%s differs %s", name, when);
    free(pa);
    free(pb);
}

#endif
