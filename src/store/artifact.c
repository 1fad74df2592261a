/* Artifact records: a run's files (checkpoints, reports) with their SHA-256,
 * so a later reader can tell the file is the one the run wrote. */
#include "store/internal.h"

#include <errno.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sw_status sw_sha256_file(const char *path, char hex[65], uint64_t *bytes, sw_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sw_error_set(err, errno == ENOENT ? SW_ERR_NOT_FOUND : SW_ERR_IO, "%s: cannot read: %s", path,
                            strerror(errno));
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[1 << 16];
    uint64_t total = 0;
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        sha256_update(&ctx, got, buf);
        total += got;
    }
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (bad) return sw_error_set(err, SW_ERR_IO, "%s: read failed: %s", path, strerror(saved));
    unsigned char digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof digest, digest);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    if (bytes) *bytes = total;
    return SW_OK;
}

typedef struct artifact_ctx {
    int64_t run_id;
    const char *kind, *path, *sha;
    uint64_t bytes;
    int64_t id;
} artifact_ctx;

static sw_status artifact_tx(sw_store *s, void *vctx)
{
    artifact_ctx *c = vctx;
    sw_status st = sw_store_run_check(s, c->run_id);
    if (st) return st;
    sw_db_val p[] = {sw_db_int(c->run_id), sw_db_text(c->kind), sw_db_text(c->path), sw_db_text(c->sha),
                     sw_db_int((int64_t)c->bytes)};
    sw_db_result r;
    st = sw_store_sql(s,
                      "INSERT INTO artifacts (run_id, kind, path, sha256, bytes, created) "
                      "VALUES (?, ?, ?, ?, ?, {NOW}) RETURNING id",
                      p, 5, &r);
    if (st) return st;
    c->id = sw_db_get_int(&r, 0, 0);
    sw_db_result_free(&r);
    return SW_OK;
}

sw_status sw_store_artifact_add(sw_store *s, int64_t run_id, const char *kind, const char *path, int64_t *artifact_id)
{
    if (!kind || !*kind || !path || !*path)
        return sw_error_set(&s->err, SW_ERR_INVALID, "an artifact needs a kind and a path");
    char hex[65];
    uint64_t bytes;
    sw_status st = sw_sha256_file(path, hex, &bytes, &s->err);
    if (st) return st;
    /* Record the absolute path: the store outlives the working directory. */
    char abs[PATH_MAX];
    const char *where = realpath(path, abs) ? abs : path;
    artifact_ctx c = {run_id, kind, where, hex, bytes, 0};
    st = sw_store_tx(s, artifact_tx, &c);
    if (!st && artifact_id) *artifact_id = c.id;
    return st;
}

sw_status sw_store_artifacts_list(sw_store *s, int64_t run_id, sw_store_artifact **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sw_db_val p = sw_db_int(run_id);
    sw_db_result r;
    sw_status st = sw_store_sql(s,
                                "SELECT id, run_id, kind, path, sha256, bytes, created FROM artifacts "
                                "WHERE run_id = ? ORDER BY id",
                                &p, 1, &r);
    if (st) return st;
    if (r.nrows) {
        if (!(*out = calloc(r.nrows, sizeof **out))) st = sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < r.nrows; i++) {
            sw_store_artifact *a = &(*out)[i];
            a->id = sw_db_get_int(&r, i, 0);
            a->run_id = sw_db_get_int(&r, i, 1);
            a->kind = sw_db_dup_text(&r, i, 2);
            a->path = sw_db_dup_text(&r, i, 3);
            snprintf(a->sha256, sizeof a->sha256, "%s", sw_db_get_text(&r, i, 4) ? sw_db_get_text(&r, i, 4) : "");
            a->bytes = (uint64_t)sw_db_get_int(&r, i, 5);
            a->created = sw_db_get_real(&r, i, 6);
        }
        if (!st) *n = r.nrows;
    }
    sw_db_result_free(&r);
    return st;
}

void sw_store_artifact_list_free(sw_store_artifact *a, size_t n)
{
    if (!a) return;
    for (size_t i = 0; i < n; i++) {
        free(a[i].kind);
        free(a[i].path);
    }
    free(a);
}
