/* Files: the one whole-file reader, and atomic writes (temporary sibling,
 * fsync, rename), so a reader never sees a half-written file and a crash
 * leaves the old file intact. */
#include "stopwise/base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

sw_status sw_file_read(const char *path, char **buf, size_t *len, sw_error *err)
{
    *buf = NULL;
    if (len) *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return sw_error_set(err, e == ENOENT || e == ENOTDIR ? SW_ERR_NOT_FOUND : SW_ERR_IO, "%s: cannot open: %s",
                            path, strerror(e));
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(f);
        return sw_error_set(err, SW_ERR_INVALID, "%s: expected a file, got a directory", path);
    }
    /* start from the file's size when it has one (pipes and /proc report 0) */
    size_t want = S_ISREG(sb.st_mode) && sb.st_size > 0 ? (size_t)sb.st_size + 1 : (size_t)1 << 16;
    size_t cap = 0, n = 0;
    char *b = NULL;
    sw_status st = SW_ARRAY_RESERVE(b, cap, want) ? SW_ERR_NOMEM : SW_OK;
    int bad = 0, e = 0;
    while (st == SW_OK) {
        if (n + 1 == cap) { /* full: grow only if there is more to read */
            int c = fgetc(f);
            if (c == EOF) {
                bad = ferror(f);
                e = errno;
                break;
            }
            if (SW_ARRAY_RESERVE(b, cap, n + 2)) {
                st = SW_ERR_NOMEM;
                break;
            }
            b[n++] = (char)c;
            continue;
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            bad = ferror(f);
            e = errno;
            break;
        }
    }
    fclose(f);
    if (st || bad) {
        free(b);
        return st ? sw_error_set(err, SW_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, n)
                  : sw_error_set(err, SW_ERR_IO, "%s: read failed: %s", path, strerror(e));
    }
    b[n] = 0;
    *buf = b;
    if (len) *len = n;
    return SW_OK;
}

sw_status sw_atomic_file_open(sw_atomic_file *f, const char *path, sw_error *err)
{
    memset(f, 0, sizeof *f);
    if (strlen(path) + 16 >= sizeof f->path)
        return sw_error_set(err, SW_ERR_INVALID, "%s: path too long", path);
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->tmp, sizeof f->tmp, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(f->tmp);
    if (fd < 0)
        return sw_error_set(err, SW_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        close(fd);
        unlink(f->tmp);
        return sw_error_set(err, SW_ERR_IO, "%s: %s", path, strerror(errno));
    }
    return SW_OK;
}

void *sw_atomic_file_fp(sw_atomic_file *f) { return f->fp; }

void sw_atomic_file_abort(sw_atomic_file *f)
{
    if (f->fp) {
        fclose(f->fp);
        f->fp = NULL;
        unlink(f->tmp);
    }
}

sw_status sw_atomic_file_commit(sw_atomic_file *f, sw_error *err)
{
    FILE *fp = f->fp;
    if (!fp) return sw_error_set(err, SW_ERR_STATE, "%s: file is not open", f->path);
    int bad = fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
    int saved = errno;
    bad |= fclose(fp) != 0;
    f->fp = NULL;
    if (bad || rename(f->tmp, f->path) != 0) {
        if (!bad) saved = errno;
        unlink(f->tmp);
        return sw_error_set(err, SW_ERR_IO, "%s: write failed: %s", f->path, strerror(saved));
    }
    return SW_OK;
}

sw_status sw_file_write_atomic(const char *path, const void *data, size_t len, sw_error *err)
{
    sw_atomic_file f;
    sw_status s = sw_atomic_file_open(&f, path, err);
    if (s) return s;
    if (len && fwrite(data, 1, len, f.fp) != len) {
        sw_atomic_file_abort(&f);
        return sw_error_set(err, SW_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    return sw_atomic_file_commit(&f, err);
}

sw_status sw_make_dirs(const char *path, sw_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return sw_error_set(err, SW_ERR_INVALID, "%s: path too long", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) && errno != EEXIST) return sw_error_set(err, SW_ERR_IO, "%s: %s", buf, strerror(errno));
        *p = '/';
    }
    struct stat sb;
    if (mkdir(buf, 0777) && (errno != EEXIST || stat(buf, &sb) || !S_ISDIR(sb.st_mode)))
        return sw_error_set(err, SW_ERR_IO, "cannot create the folder %s: %s", buf, strerror(errno));
    return SW_OK;
}

double sw_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
