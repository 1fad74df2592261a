/* Fuzz target: the data levers' spec texts (data/subsample.c,
 * train/curriculum.c); every input goes to both. A spec that parses must
 * print canonically and read back to the same text, with its fractions and
 * its pacing in range. */
#include <math.h>

#include "fuzz_common.h"
#include "stopwise/data.h"
#include "train/curriculum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    sw_error err;
    char a[512], b[512];

    sw_subsample_spec s, s2;
    err.msg[0] = 0;
    if (sw_subsample_parse(text, &s, &err) == SW_OK) {
        FUZZ_CHECK(s.kind == SW_SUBSAMPLE_NONE || (s.keep > 0 && s.keep <= 1));
        FUZZ_CHECK(s.hard >= 0 && s.hard <= 1);
        sw_subsample_format(&s, a, sizeof a);
        FUZZ_CHECK(strlen(a) + 1 < sizeof a);
        FUZZ_CHECK(sw_subsample_parse(a, &s2, &err) == SW_OK);
        sw_subsample_format(&s2, b, sizeof b);
        FUZZ_CHECK(!strcmp(a, b));
        size_t k = sw_subsample_count(&s, 1000);
        FUZZ_CHECK(k >= 1 && k <= 1000);
    } else {
        FUZZ_CHECK(err.msg[0]);
    }

    sw_curriculum_spec c, c2;
    err.msg[0] = 0;
    if (sw_curriculum_parse(text, &c, &err) == SW_OK) {
        sw_curriculum_format(&c, a, sizeof a);
        FUZZ_CHECK(strlen(a) + 1 < sizeof a);
        if (c.kind != SW_CURRICULUM_NONE) {
            FUZZ_CHECK(sw_curriculum_parse(a, &c2, &err) == SW_OK);
            sw_curriculum_format(&c2, b, sizeof b);
            FUZZ_CHECK(!strcmp(a, b));
        }
        for (double x = 0; x <= 1.0; x += 0.125) {
            double v = sw_curriculum_competence(&c, x);
            FUZZ_CHECK(v > 0 && v <= 1);
        }
    } else {
        FUZZ_CHECK(err.msg[0]);
    }
    free(text);
    return 0;
}
