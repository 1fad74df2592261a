/* train/: a batch-size ramp in the trainer (trainer_batch.c) and the batcher
 * joining planned batches (batch.c): each step's size follows the ramp, the
 * tokens stay exact across size changes, the learning rate is scaled, and a
 * resumed batcher gives the same batches. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/nn.h"
#include "stopwise/train.h"
#include "support.h"
#include "train/batch.h"
#include "train/trainer.h"

/* 600 rows, 3 features, 2 classes, written to a temp CSV. */
static const char *tabular(const char *dir)
{
    static char spec[8400];
    size_t cap = 600 * 64 + 64, n = 0;
    char *text = malloc(cap);
    n += (size_t)snprintf(text + n, cap - n, "a,b,c,y\n");
    sw_rng r;
    sw_rng_seed(&r, 3);
    for (int i = 0; i < 600; i++) {
        double a = sw_rng_normal(&r), b = sw_rng_normal(&r), c = sw_rng_normal(&r);
        n += (size_t)snprintf(text + n, cap - n, "%.6f,%.6f,%.6f,%d\n", a, b, c, a + 0.5 * b > 0);
    }
    snprintf(spec, sizeof spec, "csv:%s", sw_test_write(dir, "t.csv", text));
    free(text);
    return spec;
}

static sw_train_options ramp_run(const char *dir, const char *data)
{
    static char out[8400];
    snprintf(out, sizeof out, "%s/run", dir);
    sw_train_options o = sw_train_default_options();
    o.data = data;
    o.model = "mlp:hidden=8";
    o.schedule = "constant:lr=0.001";
    o.budget = 20000;
    o.eval_every = 2000;
    o.eval_limit = 16;
    o.batch_ramp = "from=16,to=64,over=0.5";
    o.out_dir = out;
    sw_threads_set(1); /* the host sets threads once (nn.h) */
    return o;
}

/* Every step trains B(tokens before it) examples, one token each: the
 * token count after n steps is the sum of the ramp's sizes, exactly. */
Test(train_batch_ramp, steps_follow_the_ramp_and_tokens_add_up, .timeout = 120)
{
    const char *dir = sw_test_tmpdir();
    sw_train_options o = ramp_run(dir, tabular(dir));
    sw_trainer run;
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_trainer_setup(&run, &o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(run.batch, 16, "the batcher plans batches of the unit gcd(16, 64)");
    sw_batch_ramp ramp;
    cr_assert_eq(sw_batch_ramp_parse(o.batch_ramp, &ramp, &err), SW_OK);
    ramp.total = o.budget;
    uint64_t want = 0;
    int sizes_seen[5] = {0};
    while (run.tokens < o.budget) {
        uint64_t before = run.tokens;
        int size = sw_batch_ramp_size(&ramp, before);
        cr_assert_eq(sw_trainer_step(&run), SW_OK, "%s", err.msg);
        cr_assert_eq(run.tokens - before, (uint64_t)size, "step %llu at %llu tokens: %llu examples, the ramp says %d",
                     (unsigned long long)run.step, (unsigned long long)before,
                     (unsigned long long)(run.tokens - before), size);
        want += (uint64_t)size;
        sizes_seen[size / 16]++;
    }
    cr_assert_eq(run.tokens, want);
    for (int k = 1; k <= 4; k++) cr_assert_gt(sizes_seen[k], 0, "batch %d never trained", 16 * k);
    /* 16 until 10000 x 1/3 (3334 tokens: 209 steps of 16 reach 3344) ... */
    cr_assert_eq(sw_batch_ramp_size(&ramp, 3333), 16);
    cr_assert_eq(sw_batch_ramp_size(&ramp, 3334), 32);
    sw_trainer_teardown(&run);
}

static void check_rates(sw_train_options o, int ref);

/* The rate each evaluation records (curve.csv's lr) is the schedule's times
 * sqrt(B(t) / 128), t the tokens then and 128 the tabular default batch (the
 * ramp names no ref); with ref=64, sqrt(B(t) / 64). */
Test(train_batch_ramp, learning_rate_is_scaled, .timeout = 120)
{
    const char *dir = sw_test_tmpdir();
    const char *data = tabular(dir);
    for (int ref = 128; ref >= 64; ref -= 64)
        check_rates(ramp_run(dir, data), ref);
}

static void check_rates(sw_train_options o, int ref)
{
    if (ref == 64) o.batch_ramp = "from=16,to=64,over=0.5,ref=64";
    sw_train_result res;
    sw_error err = {0};
    cr_assert_eq(sw_train(&o, NULL, NULL, &res, &err), SW_OK, "%s", err.msg);
    sw_batch_ramp ramp;
    sw_batch_ramp_parse(o.batch_ramp, &ramp, &err);
    ramp.total = o.budget;
    char path[8600];
    snprintf(path, sizeof path, "%s/curve.csv", o.out_dir);
    char *csv = sw_test_slurp(path, NULL);
    cr_assert_not_null(csv);
    int rows = 0, below = 0;
    for (char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        unsigned long long tokens;
        double lr;
        /* tokens,step,wall_s,train_loss,val_loss,val_em,val_per,lr,... */
        cr_assert_eq(sscanf(line + 1, "%llu,%*[^,],%*[^,],%*[^,],%*[^,],%*[^,],%*[^,],%lf", &tokens, &lr), 2, "%s", line);
        double want = 0.001 * sqrt(sw_batch_ramp_size(&ramp, tokens) / (double)ref);
        cr_assert(fabs(lr - want) <= 1e-8 * want, "at %llu tokens lr %.9g, want %.9g", tokens, lr, want);
        below += lr < 0.001 * 0.99;
        rows++;
    }
    cr_assert_geq(rows, 9);
    cr_assert_geq(below, 3, "the early evaluations ran at a scaled-down rate");
    free(csv);
}

/* Sequences: a joined batch's tokens are the positions it feeds, and a
 * batcher sought to a saved position gives the same batches. */
Test(train_batch_ramp, joined_sequence_batches, .timeout = 60)
{
    sw_data_options d = sw_data_default_options();
    sw_dataset *ds;
    sw_error err;
    cr_assert_eq(sw_dataset_load("synthetic:copy:n=300,len=6", &d, &ds, &err), SW_OK, "%s", err.msg);
    int T = sw_dataset_max_input_len(ds) + sw_dataset_max_ref_len(ds) + 2;
    sw_batcher a, b;
    cr_assert_eq(sw_batcher_init(&a, ds, 8, T, 5, &err), SW_OK);
    cr_assert_eq(sw_batcher_init(&b, ds, 8, T, 5, &err), SW_OK);
    cr_assert_eq(sw_batcher_reserve(&a, 32, &err), SW_OK);
    cr_assert_eq(sw_batcher_reserve(&b, 32, &err), SW_OK);
    for (int i = 0; i < 200; i++) { /* crosses several epochs of ~35 planned batches */
        int units = 1 + i % 4;
        a.units = units;
        uint64_t epoch = a.epoch;
        size_t next = a.next_batch;
        sw_batch x;
        uint64_t tokens;
        sw_batcher_next(&a, &x, &tokens);
        cr_assert_eq(x.B, 8 * units);
        uint64_t fed = 0;
        for (int r = 0; r < x.B; r++)
            for (int p = 0; p < x.T; p++) fed += x.inputs[(size_t)r * x.T + p] != SW_TOKEN_PAD;
        cr_assert_eq(tokens, fed, "batch %d: %llu tokens counted, %llu positions fed", i, (unsigned long long)tokens,
                     (unsigned long long)fed);
        if (i % 7 == 3) { /* a resume at this point */
            sw_batcher_seek(&b, epoch, next);
            b.units = units;
            sw_batch y;
            uint64_t ty;
            sw_batcher_next(&b, &y, &ty);
            cr_assert_eq(y.B, x.B);
            cr_assert_eq(y.T, x.T);
            cr_assert_eq(ty, tokens);
            cr_assert_eq(memcmp(x.inputs, y.inputs, sizeof(int32_t) * (size_t)x.B * (size_t)x.T), 0, "batch %d differs", i);
        }
    }
    sw_batcher_free(&a);
    sw_batcher_free(&b);
    sw_dataset_free(ds);
}

Test(train_batch_ramp, bad_options)
{
    const char *dir = sw_test_tmpdir();
    sw_train_options o = ramp_run(dir, tabular(dir));
    sw_trainer run;
    sw_train_result res;
    sw_error err = {0};
    o.batch = 32;
    cr_assert_eq(sw_trainer_setup(&run, &o, NULL, NULL, &res, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "not both"), "%s", err.msg);
    sw_trainer_teardown(&run);
    o.batch = 0;
    o.batch_ramp = "from=64,to=16";
    cr_assert_eq(sw_trainer_setup(&run, &o, NULL, NULL, &res, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "from=64 is above to=16"), "%s", err.msg);
    sw_trainer_teardown(&run);
}
