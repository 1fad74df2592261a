/* fuzz/: libFuzzer targets, one per parser (bench/README.md "Fuzzing").
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput: it hands the input to
 * one parser and, when the parser accepts it, checks what the parser's header
 * promises (round trips, ranges). A broken promise aborts, which libFuzzer
 * reports like a crash. Parsers that only read files get the bytes through a
 * file in a private temporary folder (under $TMPDIR). */
#ifndef STOPWISE_FUZZ_COMMON_H
#define STOPWISE_FUZZ_COMMON_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A promise the parser broke: a finding, like a crash. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input as a NUL-terminated string (cut at an inner NUL, as a C caller
 * would pass it). malloc'd; the caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

static char fuzz_dir_path[4096];

static void fuzz_dir_remove(void)
{
    static const char *const names[] = {"a", "b", "c", "d", "out", "split.txt", NULL};
    char p[4200];
    for (int i = 0; names[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", fuzz_dir_path, names[i]);
        unlink(p);
    }
    rmdir(fuzz_dir_path);
}

/* This process's temporary folder, made on first use and removed at exit
 * (a crash leaves it behind: bench/fuzz.sh points TMPDIR at a folder it
 * removes). Only the file names listed in fuzz_dir_remove are used. */
static inline const char *fuzz_dir(void)
{
    if (!fuzz_dir_path[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/stopwise-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fuzz_dir_path)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_dir_remove);
    }
    return fuzz_dir_path;
}

/* A path in the private folder ("a", "b", "c", "d", "out", "split.txt"). */
static inline const char *fuzz_path(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", fuzz_dir(), name);
    return buf;
}

/* Writes the bytes to fuzz_path(name) and returns that path (in buf). */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t size, char *buf, size_t len)
{
    fuzz_path(name, buf, len);
    int fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror("fuzz: open");
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) {
            perror("fuzz: write");
            abort();
        }
        done += (size_t)w;
    }
    close(fd);
    return buf;
}

#endif
