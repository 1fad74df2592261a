/* The SQLite backend of the SQL driver. Statements are prepared once and
 * kept in a small cache: the store runs the same few statements many times
 * (one per flush of evaluations), and preparing costs as much as running. */
#include "store/db_backend.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CACHE_SIZE 32

typedef struct lite {
    sqlite3 *db;
    char path[4096];
    struct {
        char *sql;
        sqlite3_stmt *stmt;
    } cache[CACHE_SIZE];
    unsigned next; /* round-robin victim */
} lite;

static sw_status map(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return SW_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return SW_ERR_BUSY;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return SW_ERR_FORMAT;
    case SQLITE_CONSTRAINT: return SW_ERR_INVALID;
    case SQLITE_NOMEM: return SW_ERR_NOMEM;
    default: return SW_ERR_IO;
    }
}

static sw_status fail(lite *l, int rc, sw_error *err)
{
    sw_status s = map(rc);
    if (s == SW_ERR_FORMAT)
        return sw_error_set(err, s, "%s: not a stopwise store (%s)", l->path, sqlite3_errmsg(l->db));
    /* "disk I/O error" alone hides the cause (a full disk, a file size
     * limit): add the system's own words when SQLite kept an errno */
    int sys = sqlite3_system_errno(l->db);
    if (((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_CANTOPEN) && sys)
        return sw_error_set(err, s, "%s: %s (%s)", l->path, sqlite3_errmsg(l->db), strerror(sys));
    return sw_error_set(err, s, "%s: %s", l->path, sqlite3_errmsg(l->db));
}

static void nap_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

sw_status sw_db_sqlite_open(const char *path, int create, int read_only, int busy_ms, void **conn, sw_error *err)
{
    *conn = NULL;
    if (read_only) create = 0;
    if (!create && access(path, F_OK) != 0)
        return sw_error_set(err, SW_ERR_NOT_FOUND, "%s: no store there (%s)", path, strerror(errno));
    lite *l = calloc(1, sizeof *l);
    if (!l) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    snprintf(l->path, sizeof l->path, "%s", path);
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &l->db, flags, NULL);
    if (rc != SQLITE_OK) {
        sw_status s = sw_error_set(err, rc == SQLITE_CANTOPEN ? SW_ERR_NOT_FOUND : map(rc), "%s: cannot open: %s",
                                   path, l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
        sqlite3_close(l->db);
        free(l);
        return s;
    }
    sqlite3_extended_result_codes(l->db, 0);
    sqlite3_busy_timeout(l->db, busy_ms);
    /* WAL: readers never block the writer and a commit is one append, so a
     * SIGKILL loses at most the transaction in flight; synchronous=NORMAL
     * keeps that guarantee against process crashes (only power loss may undo
     * the last commits). Switching to WAL takes a brief exclusive lock, which
     * several processes opening a fresh file at once contend for: retry. */
    static const char *const pragmas[] = {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON",
                                          "PRAGMA synchronous=NORMAL"};
    /* A reader leaves the journal mode to the writers (switching it writes);
     * in WAL mode it reads beside a live writer without blocking it. */
    for (size_t i = read_only ? 1 : 0; i < sizeof pragmas / sizeof *pragmas; i++) {
        for (int tries = 0;; tries++) {
            rc = sqlite3_exec(l->db, pragmas[i], NULL, NULL, NULL);
            if (map(rc) != SW_ERR_BUSY || tries * 10 > busy_ms) break;
            nap_ms(10);
        }
        if (rc != SQLITE_OK) {
            sw_status s = fail(l, rc, err);
            sqlite3_close(l->db);
            free(l);
            return s;
        }
    }
    *conn = l;
    return SW_OK;
}

void sw_db_sqlite_close(void *conn)
{
    lite *l = conn;
    if (!l) return;
    for (int i = 0; i < CACHE_SIZE; i++) {
        sqlite3_finalize(l->cache[i].stmt);
        free(l->cache[i].sql);
    }
    sqlite3_close(l->db);
    free(l);
}

static sw_status prepare(lite *l, const char *sql, sqlite3_stmt **out, sw_error *err)
{
    for (int i = 0; i < CACHE_SIZE; i++)
        if (l->cache[i].sql && !strcmp(l->cache[i].sql, sql)) {
            *out = l->cache[i].stmt;
            return SW_OK;
        }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return fail(l, rc, err);
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(st);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    }
    unsigned v = l->next++ % CACHE_SIZE;
    sqlite3_finalize(l->cache[v].stmt);
    free(l->cache[v].sql);
    l->cache[v].sql = copy;
    l->cache[v].stmt = st;
    *out = st;
    return SW_OK;
}

static sw_status grab_row(sqlite3_stmt *st, sw_db_result *res, size_t *cap)
{
    size_t nc = res->ncols;
    if (SW_ARRAY_RESERVE(res->cells, *cap, (res->nrows + 1) * nc)) return SW_ERR_NOMEM;
    sw_db_val *row = res->cells + res->nrows * nc;
    for (size_t c = 0; c < nc; c++) {
        sw_db_val *v = &row[c];
        memset(v, 0, sizeof *v);
        switch (sqlite3_column_type(st, (int)c)) {
        case SQLITE_INTEGER:
            v->type = SW_DB_INT;
            v->i = sqlite3_column_int64(st, (int)c);
            break;
        case SQLITE_FLOAT:
            v->type = SW_DB_REAL;
            v->d = sqlite3_column_double(st, (int)c);
            break;
        case SQLITE_NULL: v->type = SW_DB_NULL; break;
        default: {
            const unsigned char *t = sqlite3_column_text(st, (int)c);
            v->type = SW_DB_TEXT;
            v->s = strdup(t ? (const char *)t : "");
            if (!v->s) return SW_ERR_NOMEM;
        }
        }
    }
    res->nrows++;
    return SW_OK;
}

sw_status sw_db_sqlite_exec(void *conn, const char *sql, const sw_db_val *params, size_t n, sw_db_result *res,
                            sw_error *err)
{
    lite *l = conn;
    sqlite3_stmt *st = NULL;
    sw_status s = prepare(l, sql, &st, err);
    if (s) return s;
    for (size_t i = 0; i < n; i++) {
        int k = (int)i + 1, rc;
        switch (params[i].type) {
        case SW_DB_INT: rc = sqlite3_bind_int64(st, k, params[i].i); break;
        case SW_DB_REAL: rc = sqlite3_bind_double(st, k, params[i].d); break;
        case SW_DB_TEXT: rc = sqlite3_bind_text(st, k, params[i].s, -1, SQLITE_STATIC); break;
        default: rc = sqlite3_bind_null(st, k);
        }
        if (rc != SQLITE_OK) {
            s = fail(l, rc, err);
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return s;
        }
    }
    if (res) res->ncols = (size_t)sqlite3_column_count(st);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (res && res->ncols && grab_row(st, res, &cap)) {
            s = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
            break;
        }
    }
    if (!s && rc != SQLITE_DONE) s = fail(l, rc, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (s && res) sw_db_result_free(res);
    return s;
}

sw_status sw_db_sqlite_script(void *conn, const char *sql, sw_error *err)
{
    lite *l = conn;
    int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SW_OK : fail(l, rc, err);
}
