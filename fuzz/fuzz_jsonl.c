/* Fuzz target: JSON Lines sequence data ({"input":..,"target":..}): data/text.c, seq.c, split.c, vocab.c.
 * The input is the file; a dataset that loads is walked and checked
 * (fuzz_data.h), then loaded again with a subsample and a fold left out. */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load_file("jsonl", data, size, 0);
    return 0;
}
