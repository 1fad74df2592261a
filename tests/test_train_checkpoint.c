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
