/* Fuzz target: CSV classification data (data/csv.c: quoted fields, header
 * detection, label column, class ordering; split.c). The input is the file;
 * a dataset that loads is walked and checked (fuzz_data.h), then loaded
 * again with the label chosen by name (the header forced on), by index 0,
 * and with a subsample and a fold left out. */
#include "fuzz_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200], spec[4300];
    fuzz_file("a", data, size, path, sizeof path);
    snprintf(spec, sizeof spec, "csv:%s", path);
    sw_data_options opt = sw_data_default_options();
    fuzz_load(spec, &opt);
    opt.csv_label = "label";
    fuzz_load(spec, &opt);
    opt = fuzz_other_options();
    opt.csv_label = "0";
    opt.csv_header = 0;
    fuzz_load(spec, &opt);
    return 0;
}
