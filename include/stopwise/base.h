/* stopwise base: status codes, error messages, strict number parsing, seeded
 * random numbers and atomic file writes. libc only; every layer may use it.
 *
 * Thread safety: every function here is reentrant; an sw_rng or sw_error must
 * not be shared between threads without a lock. */
#ifndef STOPWISE_BASE_H
#define STOPWISE_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SW_VERSION_MAJOR 0
#define SW_VERSION_MINOR 1
#define SW_VERSION_PATCH 0
#define SW_VERSION_STRING "0.1.0"
/* The run-time version, to compare with SW_VERSION_STRING at build time. */
const char *sw_version(void);

/* Every fallible function returns an sw_status; 0 is success. */
typedef enum sw_status {
    SW_OK = 0,
    SW_ERR_INVALID,   /* bad argument, spec or option value (user error)   */
    SW_ERR_FORMAT,    /* malformed file contents (user error)              */
    SW_ERR_NOT_FOUND, /* a named file, run or key does not exist           */
    SW_ERR_VERSION,   /* a file or store from a newer/unknown version      */
    SW_ERR_CONNECT,   /* a server cannot be reached, or the connection was
                         lost (a runtime failure: exit 1); a login the server
                         refuses is SW_ERR_INVALID (exit 2)                 */
    SW_ERR_IO,        /* the system failed a read or write                 */
    SW_ERR_NOMEM,     /* allocation failed                                 */
    SW_ERR_STATE,     /* call out of order (e.g. feeding a stopped run)    */
    SW_ERR_BUSY,      /* a lock could not be taken in time                 */
    SW_ERR_INTERNAL   /* a bug in stopwise                                 */
} sw_status;

/* A static English name for a status ("ok", "invalid argument", ...). */
const char *sw_status_str(sw_status s);
/* The CLI's exit code for a status: 0 ok, 2 user error, 1 runtime failure. */
int sw_status_exit_code(sw_status s);

/* The last error of an operation, as one line of text that names the file,
 * line or offset and what was expected. Functions that take an `sw_error *`
 * fill it on failure; passing NULL discards the message. */
typedef struct sw_error {
    sw_status status;
    char msg[1024];
} sw_error;

/* Records status and a printf-style message in err (if non-NULL); returns s.
 * An argument may be err->msg itself ("prefix: %s", err->msg): the message is
 * formatted aside before it replaces the old one. */
sw_status sw_error_set(sw_error *err, sw_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sw_error_clear(sw_error *err);

/* ---- strict parsing (the whole string must be consumed) --------------------- */

/* A double, finite. */
sw_status sw_parse_double(const char *s, double *out);
/* A signed 64-bit integer in [lo, hi]. */
sw_status sw_parse_int(const char *s, long long lo, long long hi, long long *out);
/* A token count with an optional k, M or G suffix (powers of 1000); a decimal
 * mantissa is allowed with a suffix ("1.5M"). Result must fit in uint64. */
sw_status sw_parse_tokens(const char *s, uint64_t *out);
/* Formats a token count compactly ("20M", "1.5k", "123") into buf. */
char *sw_format_tokens(uint64_t n, char *buf, size_t len);

/* ---- random numbers ------------------------------------------------------- */

/* A seeded generator (xoshiro256**), owned by whoever runs. Never rand(). */
typedef struct sw_rng { uint64_t s[4]; } sw_rng;
void sw_rng_seed(sw_rng *r, uint64_t seed);
uint64_t sw_rng_next(sw_rng *r);
/* Uniform in [0, 1). */
double sw_rng_uniform(sw_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t sw_rng_below(sw_rng *r, uint64_t n);
/* Standard normal (Box-Muller). */
double sw_rng_normal(sw_rng *r);
/* Fisher-Yates shuffle of n indices. */
void sw_rng_shuffle(sw_rng *r, uint32_t *idx, size_t n);
/* Counter-based: a 64-bit hash of (seed, stream, counter) so that parallel
 * loops draw the same numbers whatever the thread count (dropout masks). */
uint64_t sw_hash3(uint64_t seed, uint64_t stream, uint64_t counter);
/* The same mapped to [0, 1) as a float. */
float sw_hash3_uniform(uint64_t seed, uint64_t stream, uint64_t counter);

/* ---- files ------------------------------------------------------------------ */

/* Writes `len` bytes to `path` atomically: a temporary file in the same folder,
 * fsync, then rename. On failure nothing is left behind and `path` keeps its
 * old contents. */
sw_status sw_file_write_atomic(const char *path, const void *data, size_t len, sw_error *err);

/* An atomic writer for files produced piecewise: open writes to a temporary
 * sibling; commit fsyncs and renames; abort (or a failed commit) removes it. */
typedef struct sw_atomic_file {
    void *fp;          /* FILE *, write with fwrite or fprintf via sw_atomic_file_fp */
    char path[4096];
    char tmp[4096];
} sw_atomic_file;
sw_status sw_atomic_file_open(sw_atomic_file *f, const char *path, sw_error *err);
void *sw_atomic_file_fp(sw_atomic_file *f); /* a FILE * */
sw_status sw_atomic_file_commit(sw_atomic_file *f, sw_error *err);
void sw_atomic_file_abort(sw_atomic_file *f);

/* Creates a folder and its missing parents (mkdir -p). */
sw_status sw_make_dirs(const char *path, sw_error *err);

/* Monotonic wall-clock seconds. */
double sw_now(void);

#ifdef __cplusplus
}
#endif
#endif
