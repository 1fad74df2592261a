/* stopwise base: status codes, error messages, numbers in text (strict
 * parsing and formatting, whatever the process locale), growable arrays,
 * seeded random numbers, and whole-file reads and atomic file writes. libc
 * only; every layer may use it, and no layer writes its own copy of these.
 *
 * Thread safety: every function here is reentrant; an sw_rng or sw_error must
 * not be shared between threads without a lock. */
#ifndef STOPWISE_BASE_H
#define STOPWISE_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* ---- numbers in text, whatever the process locale ----------------------------
 * Every number stopwise reads from or writes to text (policy text, model,
 * optimizer and schedule specs, CSV, JSON Lines, controller state, store
 * text, error messages) goes through the functions below, so a host program
 * that called setlocale(LC_NUMERIC, "de_DE.UTF-8") still gets "0.5", never
 * "0,5", and still reads "0.5" whole. They switch the calling thread to a
 * private "C" locale_t (created once, on first use, thread-safely) for the
 * duration of the call and switch it back; the process locale and the
 * thread's own locale are never changed as the caller sees them.
 * If the "C" locale object cannot be created (out of memory), the parsers
 * consume nothing (*end == s, errno EINVAL) and the printers write an empty
 * string and return -1: never a number in the wrong locale. */

/* strtod, strtoll and strtoull in the "C" locale (same contract otherwise:
 * leading white space is skipped, *end is set, errno is ERANGE on overflow). */
double sw_strtod(const char *s, char **end);
float sw_strtof(const char *s, char **end);
long long sw_strtoll(const char *s, char **end, int base);
unsigned long long sw_strtoull(const char *s, char **end, int base);
/* snprintf, vsnprintf and fprintf in the "C" locale. */
int sw_snprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sw_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
int sw_fprintf(FILE *fp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The shortest text that reads back (sw_strtod) as exactly x: "0.1", "10",
 * "3e-05", "0.30000000000000004"; plain digits, not an exponent, for
 * 1e-4 <= |x| < 1e15. "nan", "inf" and "-inf" for non-finite x. Returns buf.
 * 32 bytes always suffice. */
char *sw_format_double(double x, char *buf, size_t len);
/* The same for a float read back with sw_strtof: "0.2", not "0.200000003". */
char *sw_format_float(float x, char *buf, size_t len);

/* ---- strict parsing (the whole string must be consumed) ---------------------
 * All in the "C" locale (see above). */

/* A double, finite. */
sw_status sw_parse_double(const char *s, double *out);
/* A signed 64-bit integer in [lo, hi]. */
sw_status sw_parse_int(const char *s, long long lo, long long hi, long long *out);
/* A token count with an optional k, M or G suffix (powers of 1000); a decimal
 * mantissa is allowed with a suffix ("1.5M"). Result must fit in uint64. */
sw_status sw_parse_tokens(const char *s, uint64_t *out);
/* Formats a token count compactly for people ("20M", "1.5k", "1.23M": three
 * significant digits, so it may round) into buf; returns buf. */
char *sw_format_tokens(uint64_t n, char *buf, size_t len);
/* Formats a token count so that sw_parse_tokens reads it back exactly: the
 * largest k, M or G suffix that leaves at most max_decimals (0-3) decimals
 * ("20M"; "1.5M" with max_decimals >= 1, "1.25k" with >= 2), else plain digits
 * ("1234567"). Policy text uses 3, the optimizer and schedule specs 0.
 * Returns buf; 24 bytes always suffice. */
char *sw_format_tokens_exact(uint64_t n, int max_decimals, char *buf, size_t len);

/* ---- growable arrays ----------------------------------------------------------
 * The one helper for arrays that grow as items arrive. The array is a plain
 * T *arr (NULL when empty, owned by the caller, freed with free()) and a
 * size_t capacity counted in elements; the macros fill in sizeof(T).
 *
 *   int *v = NULL; size_t n = 0, cap = 0;
 *   if (SW_ARRAY_RESERVE(v, cap, n + 1)) return SW_ERR_NOMEM;
 *   v[n++] = 42;
 *
 * Growth at least doubles (from 16 elements), every size is checked for
 * overflow, and on failure the array and its capacity are left as they were
 * (still valid, still the caller's) and SW_ERR_NOMEM comes back. */

/* Makes room for at least `need` elements: grows *arrp (the address of a
 * T *) to sw_array_grown_cap(*cap, need) elements of `size` bytes when
 * *cap < need, and updates *cap. */
sw_status sw_array_reserve(void *arrp, size_t *cap, size_t need, size_t size);
/* Resizes *arrp (the address of a T *) to exactly n elements of `size`
 * bytes (n > 0). For several arrays that share one capacity: grow each to
 * sw_array_grown_cap(cap, need), then set the capacity. */
sw_status sw_array_resize(void *arrp, size_t n, size_t size);
/* The capacity an array of capacity cap grows to when it must hold need
 * elements: max(need, 2 * cap, 16) (saturating, never less than need). */
size_t sw_array_grown_cap(size_t cap, size_t need);
#define SW_ARRAY_RESERVE(arr, cap, need) sw_array_reserve(&(arr), &(cap), (need), sizeof *(arr))
#define SW_ARRAY_RESIZE(arr, n) sw_array_resize(&(arr), (n), sizeof *(arr))

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

/* Reads the whole file at `path` into *buf: malloc'd, NUL-terminated (the
 * terminator not counted in *len), freed by the caller. On failure *buf is
 * NULL and err names the path: SW_ERR_NOT_FOUND if it does not exist,
 * SW_ERR_INVALID if it is a folder, SW_ERR_IO on a read error, SW_ERR_NOMEM. */
sw_status sw_file_read(const char *path, char **buf, size_t *len, sw_error *err);

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
