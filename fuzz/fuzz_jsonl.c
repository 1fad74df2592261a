/* Fuzz target: JSON Lines sequence data ({"input":..,"target":..}): data/text.c, seq.c, split.c, vocab.c.
 * The input is the file; a dataset that loads is walked and checked
 * (fuzz_data.h), then loaded again with a subsample and a fold left out. */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200], spec[4300];
    fuzz_file("a", data, size, path, sizeof path);
    snprintf(spec, sizeof spec, "jsonl:%s", path);
    sw_data_options opt = sw_data_default_options();
    if (fuzz_load(spec, &opt) == SW_OK) {
        opt = fuzz_other_options();
        fuzz_load(spec, &opt);
    }
    return 0;
}
