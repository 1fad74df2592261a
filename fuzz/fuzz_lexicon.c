/* Fuzz target: Festival lexicons (data/lexicon.c, the cmudict loader: the
 * s-expression entries, escapes, syllables and stress), in the lexicon form
 * and, when that loads, in the published form and with a subsample. The
 * input is the file; a dataset that loads is walked and checked. */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200], spec[4300];
    fuzz_file("a", data, size, path, sizeof path);
    snprintf(spec, sizeof spec, "cmudict:%s", path);
    sw_data_options opt = sw_data_default_options();
    if (fuzz_load(spec, &opt) == SW_OK) {
        opt.published = 1;
        fuzz_load(spec, &opt);
        opt = fuzz_other_options();
        fuzz_load(spec, &opt);
    }
    return 0;
}
