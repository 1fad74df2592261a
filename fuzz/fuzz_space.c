/* Fuzz target: the search space file (search/space.c). A space that parses
 * prints a canonical text that parses to a space with the same text
 * (search.h); points at the corners and the middle map to configurations
 * whose snapped points stay in [0,1] and map to the same configuration
 * again. One that does not parse fails with a message naming the file. */
#include "fuzz_common.h"

#include "stopwise/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_space *sp = NULL;
    sw_error err;
    err.msg[0] = 0;
    if (sw_space_parse((const char *)data, size, "fuzz.txt", &sp, &err) != SW_OK) {
        FUZZ_CHECK(sp == NULL && !strncmp(err.msg, "fuzz.txt", 8));
        return 0;
    }
    char *a = sw_space_format(sp);
    FUZZ_CHECK(a);
    sw_space *again = NULL;
    FUZZ_CHECK(sw_space_parse(a, strlen(a), "canonical", &again, &err) == SW_OK);
    char *b = sw_space_format(again);
    FUZZ_CHECK(b && !strcmp(a, b));
    FUZZ_CHECK(sw_space_n_dims(again) == sw_space_n_dims(sp) && sw_space_n_options(again) == sw_space_n_options(sp));
    size_t d = sw_space_n_dims(sp);
    double *p = malloc((d ? d : 1) * sizeof *p);
    FUZZ_CHECK(p);
    static const double at[] = {0.0, 0.5, 0.9999999};
    for (int k = 0; k < 3; k++) {
        for (size_t j = 0; j < d; j++) p[j] = at[k];
        sw_space_config c1, c2;
        FUZZ_CHECK(sw_space_config_make(sp, p, d, &c1, &err) == SW_OK);
        for (size_t j = 0; j < d; j++) FUZZ_CHECK(p[j] >= 0 && p[j] <= 1);
        FUZZ_CHECK(sw_space_config_make(sp, p, d, &c2, &err) == SW_OK);
        FUZZ_CHECK(!strcmp(c1.params_json, c2.params_json));
        FUZZ_CHECK(c1.n_options == sw_space_n_options(sp));
        sw_space_config_clear(&c1);
        sw_space_config_clear(&c2);
    }
    free(p);
    free(a);
    free(b);
    sw_space_free(again);
    sw_space_free(sp);
    return 0;
}
