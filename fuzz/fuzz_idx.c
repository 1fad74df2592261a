/* Fuzz target: IDX files (data/idx.c: the header, size checks against the
 * file, gzip, element types; the images/labels pair checks).
 *
 * Input layout: byte 0 flags (bit 0: also pass the pair as the official test
 * set, the 4-file form of idx:), bytes 1-2 a little-endian split point k,
 * then the images file (the next k mod (rest + 1) bytes) and the labels file
 * (the remaining bytes). fuzz/make_corpus writes seeds in this layout. */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    int four = data[0] & 1;
    size_t rest = size - 3, k = ((size_t)data[1] | (size_t)data[2] << 8) % (rest + 1);
    char im[4200], lb[4200], spec[8500];
    fuzz_file("a", data + 3, k, im, sizeof im);
    fuzz_file("b", data + 3 + k, rest - k, lb, sizeof lb);
    if (four)
        snprintf(spec, sizeof spec, "idx:%s,%s,%s,%s", im, lb, im, lb);
    else
        snprintf(spec, sizeof spec, "idx:%s,%s", im, lb);
    sw_data_options opt = sw_data_default_options();
    if (fuzz_load(spec, &opt) == SW_OK) {
        opt = fuzz_other_options();
        fuzz_load(spec, &opt);
    }
    return 0;
}
