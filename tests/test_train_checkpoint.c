/* train/: hostile checkpoints. A safetensors header names a model spec; the
 * spec's parameter count is checked against the file's data section before
 * the model is allocated, so a header promising a huge model is refused
 * without the memory it asks for. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stopwise/train.h"
#include "support.h"

/* Writes [u64 header length][header][data_bytes zero bytes] to dir/name. */
static const char *write_st(const char *dir, const char *name, const char *header, size_t data_bytes)
{
    static char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    uint64_t n = strlen(header);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(n >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(header, 1, n, f);
    for (size_t i = 0; i < data_bytes; i++) fputc(0, f);
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* Loads in a child whose address space is capped at 1 GiB (not under
 * AddressSanitizer, which reserves terabytes of shadow), so a load that tried
 * to allocate the model would fail for memory instead of refusing the file.
 * Returns the status; *msg gets the error message. */
static sw_status load_capped(const char *path, char *msg, size_t len)
{
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fd[0]);
#ifndef __SANITIZE_ADDRESS__
        struct rlimit rl = {1ull << 30, 1ull << 30};
        setrlimit(RLIMIT_AS, &rl);
#endif
        sw_checkpoint ck;
        sw_error err = {0};
        sw_status st = sw_checkpoint_load(path, &ck, &err);
        if (!st) sw_checkpoint_free(&ck);
        if (write(fd[1], err.msg, strlen(err.msg)) < 0) _exit(100);
        _exit((int)st);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], msg, len - 1);
    msg[got > 0 ? got : 0] = 0;
    close(fd[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the load crashed (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return (sw_status)WEXITSTATUS(status);
}

Test(train_checkpoint, a_header_promising_terabytes_is_refused_before_allocating)
{
    const char *dir = sw_test_tmpdir();
    static const struct { const char *spec, *what; } cases[] = {
        /* 256 layers of width 16384, vocabulary 2^24: about 8.3e11 parameters, 3.3 TB (twice, with gradients) */
        {"gpt:layers=256,d=16384,heads=4,ctx=4096,vocab=16777216,tied=0", "terabytes"},
        /* an MLP of 2^20-wide layers: about 8.8e12 parameters */
        {"mlp:hidden=1048576x1048576x1048576x1048576x1048576x1048576x1048576x1048576,inputs=1048576,classes=1048576",
         "terabytes"},
        /* ~400M parameters: 3.2 GB with gradients, over the child's 1 GiB cap */
        {"gpt:layers=8,d=2048,heads=4,ctx=64,vocab=1000", "gigabytes"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char header[1024];
        snprintf(header, sizeof header, "{\"__metadata__\":{\"format\":\"stopwise\",\"model\":\"%s\"}}", cases[k].spec);
        const char *path = write_st(dir, "hostile.safetensors", header, 4096);
        char msg[1100];
        sw_status st = load_capped(path, msg, sizeof msg);
        cr_expect_eq(st, SW_ERR_FORMAT, "%s (%s): status %d: %s", cases[k].spec, cases[k].what, st, msg);
        cr_expect(strstr(msg, "hostile.safetensors") && strstr(msg, "parameters") && strstr(msg, "4096-byte data section"),
                  "%s: the message names the file, the model's size and the data section: %s", cases[k].spec, msg);
    }
}

/* The check counts exactly: a model whose tensors fit the data section but
 * one float short is refused, with no allocation of its size either. */
Test(train_checkpoint, a_data_section_one_float_short_is_refused)
{
    sw_model_spec spec;
    cr_assert_eq(sw_model_spec_parse("gpt:layers=1,d=8,heads=2,ctx=4,vocab=5", &spec, NULL), SW_OK);
    uint64_t n = 0;
    sw_error err;
    cr_assert_eq(sw_model_spec_num_params(&spec, &n, &err), SW_OK, "%s", err.msg);
    sw_model *m;
    cr_assert_eq(sw_model_create(&spec, 1, &m, NULL), SW_OK);
    cr_assert_eq(n, sw_model_num_params(m), "the count without allocating agrees with the model");
    sw_model_free(m);
    const char *dir = sw_test_tmpdir();
    char header[512];
    snprintf(header, sizeof header, "{\"__metadata__\":{\"format\":\"stopwise\",\"model\":\"%s\"}}",
             "gpt:layers=1,d=8,heads=2,ctx=4,vocab=5");
    const char *path = write_st(dir, "short.safetensors", header, (size_t)n * 4 - 4);
    char msg[1100];
    cr_assert_eq(load_capped(path, msg, sizeof msg), SW_ERR_FORMAT, "%s", msg);
    cr_assert(strstr(msg, "parameters"), "%s", msg);
}

/* ---- non-finite numbers in the resumable state ------------------------------------- */

#include <math.h>
#include "train/train_state.h"

static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* jansson cannot hold NaN or infinity (json_real gives NULL): a NaN or
 * infinite val_loss used to drop its evaluation from the resumable state, a
 * NaN best_loss its key, and a NaN train_loss came back as -1. Every number
 * must come back as it went in. */
Test(train_checkpoint, non_finite_numbers_survive_the_resume_state)
{
    sw_trainer_point pts[] = {
        /* the last six: raw and averaged EM (NaN without an average), which set, examples, refuted, test EM */
        {1000, 1, 0.5, 2.0, 1.5, 10, 50, 1e-3, 10, NAN, 0, 100, 0, NAN},
        {2000, 2, 1.0, NAN, INFINITY, 20, 40, 1e-3, 20, 19, 0, 100, 1, 18}, /* no train loss since the last evaluation; val_loss overflowed */
        {3000, 3, 1.5, INFINITY, NAN, 30, 30, 1e-3, 28, 30, 1, 100, 0, 29.5},
        {4000, 4, 2.0, 1.0, -INFINITY, 40, -1, 5e-4, 40, -INFINITY, 0, 400, 0, NAN}, /* val_per -1: not measured */
    };
    sw_train_state in = {
        .tokens = 4000, .step = 4, .epoch = 1, .next_batch = 7, .next_eval = 5000, .best_tokens = 3000,
        .optimizer_steps = 4, .best_em = 30, .best_loss = NAN, .elapsed_s = 2.5, .loss_sum = INFINITY,
        .loss_tokens = 100, .run_id = 12, .best_weights = 1, .average_updates = 77, .has_plan = 1,
        .plan_every = 1000, .plan_sample = 100, .plan_confirm = 400, .plan_confirmations = 2, .plan_vetoes = 1,
        .plan_calibrated = 1, .curve = pts, .n_curve = 4,
    };
    char *text = sw_train_state_to_json(&in);
    cr_assert_not_null(text, "the state did not serialize at all");
    sw_train_state out;
    sw_error err = {0};
    cr_assert_eq(sw_train_state_from_json(text, &out, &err), SW_OK, "%s\n%s", err.msg, text);
    cr_assert_eq(out.n_curve, 4, "evaluations lost: %zu of 4\n%s", out.n_curve, text);
    cr_assert(same(out.best_loss, in.best_loss), "best_loss %g\n%s", out.best_loss, text);
    cr_assert(same(out.loss_sum, in.loss_sum), "loss_sum %g\n%s", out.loss_sum, text);
    cr_assert_eq(out.tokens, 4000);
    cr_assert_eq(out.next_batch, 7);
    cr_assert_eq(out.run_id, 12);
    cr_assert(out.best_weights == 1 && out.average_updates == 77 && out.has_plan && out.plan_every == 1000 &&
                  out.plan_sample == 100 && out.plan_confirm == 400 && out.plan_confirmations == 2 &&
                  out.plan_vetoes == 1 && out.plan_calibrated == 1,
              "the weight average and the evaluation plan\n%s", text);
    cr_assert(out.best_em == 30 && out.elapsed_s == 2.5 && out.loss_tokens == 100);
    for (size_t i = 0; i < 4; i++) {
        const sw_trainer_point *a = &pts[i], *b = &out.curve[i];
        cr_assert(a->tokens == b->tokens && a->step == b->step, "point %zu", i);
        cr_assert(same(a->train_loss, b->train_loss), "point %zu: train_loss %g came back as %g\n%s", i, a->train_loss,
                  b->train_loss, text);
        cr_assert(same(a->val_loss, b->val_loss), "point %zu: val_loss %g came back as %g\n%s", i, a->val_loss,
                  b->val_loss, text);
        cr_assert(same(a->wall_s, b->wall_s) && same(a->val_em, b->val_em) && same(a->val_per, b->val_per) &&
                      same(a->lr, b->lr),
                  "point %zu", i);
        cr_assert(same(a->val_em_raw, b->val_em_raw) && same(a->val_em_avg, b->val_em_avg) &&
                      a->weights == b->weights && a->n_eval == b->n_eval && a->vetoed == b->vetoed,
                  "point %zu: the averaging and sizing fields\n%s", i, text);
        cr_assert(same(a->test_em, b->test_em), "point %zu: test_em %g came back as %g\n%s", i, a->test_em,
                  b->test_em, text);
    }
    /* NaN is written as null, infinities as the strings "Infinity" and "-Infinity" */
    cr_assert(strstr(text, "null") && strstr(text, "\"Infinity\"") && strstr(text, "\"-Infinity\""), "%s", text);
    free(out.curve);
    free(text);
}
