/* Fuzz target: Festival lexicons (data/lexicon.c, the cmudict loader: the
 * s-expression entries, escapes, syllables and stress), in the lexicon form
 * and, when that loads, in the published form and with a subsample. The
 * input is the file; a dataset that loads is walked and checked. */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load_file("cmudict", data, size, 1);
    return 0;
}
