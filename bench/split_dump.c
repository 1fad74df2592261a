/* Writes the train/validation/test split stopwise makes of a dataset
 * (sw_dataset_write_split: `SPLIT<TAB>ID` lines, ID = line:N for CSV), so a
 * reference in another tool trains and scores on the very same rows
 * (bench/features.sh, bench/features_ref.py).
 *
 * usage: bench_split_dump SPEC OUT [DATA_SEED [VAL_FRAC TEST_FRAC]] */
#include "stopwise/data.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s SPEC OUT [DATA_SEED [VAL_FRAC TEST_FRAC]]\n", argv[0]);
        return 2;
    }
    sw_data_options o = sw_data_default_options();
    long long seed = 1;
    double v, t;
    if (argc >= 4 && sw_parse_int(argv[3], 0, 1LL << 62, &seed)) {
        fprintf(stderr, "%s: DATA_SEED: expected a whole number, got '%s'\n", argv[0], argv[3]);
        return 2;
    }
    o.seed = (uint64_t)seed;
    if (argc == 6) {
        if (sw_parse_double(argv[4], &v) || sw_parse_double(argv[5], &t)) {
            fprintf(stderr, "%s: VAL_FRAC TEST_FRAC: expected numbers\n", argv[0]);
            return 2;
        }
        o.val_frac = v;
        o.test_frac = t;
    }
    sw_dataset *ds;
    sw_error err;
    sw_status st = sw_dataset_load(argv[1], &o, &ds, &err);
    if (!st) st = sw_dataset_write_split(ds, argv[2], &err);
    sw_dataset_free(ds);
    if (st) {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
        return sw_status_exit_code(st);
    }
    return 0;
}
