/* The PostgreSQL backend of the SQL driver, through libpq. Parameters and
 * results travel in binary (int8 and float8 in network byte order), so no
 * number goes through a locale-dependent printf or strtod. */
#include "store/db_backend.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* type OIDs from the server's catalog (src/include/catalog/pg_type.dat) */
enum {
    OID_BOOL = 16, OID_CHAR = 18, OID_NAME = 19, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23,
    OID_TEXT = 25, OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_UNKNOWN = 705, OID_VARCHAR = 1043,
    OID_VOID = 2278
};

typedef struct pg {
    PGconn *conn;
    char where[4096]; /* the redacted URL, for messages */
    int read_only;    /* every connection's session is read-only */
} pg;

static void quiet(void *arg, const char *msg)
{
    /* The library never prints: NOTICEs (e.g. "already exists, skipping")
     * are dropped instead of going to stderr as libpq does by default. */
    (void)arg;
    (void)msg;
}

/* libpq's messages end in a newline and may span lines; make them one line. */
static void one_line(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
    for (char *p = dst; *p; p++)
        if (*p == '\n') *p = ' ';
    size_t n = strlen(dst);
    while (n && dst[n - 1] == ' ') dst[--n] = 0;
}

/* 0 if libpq cannot parse the URL or its port is not a list of numbers
 * (libpq finds that only when it connects, as if the server were away). */
static int url_usable(const char *url)
{
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    if (!opts) return 0;
    int ok = 1;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "port") || !o->val) continue;
        for (const char *c = o->val; *c; c++)
            if (!(*c >= '0' && *c <= '9') && *c != ',') ok = 0;
    }
    PQconninfoFree(opts);
    return ok;
}

/* A read-only session: every transaction after this refuses writes (the
 * server's own check, SQLSTATE 25006). A SET, not the URL's options=-c...,
 * so the URL keeps its own options (a search_path) and PQreset's new
 * connection can be set again. */
static sw_status session_read_only(pg *p, sw_error *err)
{
    if (!p->read_only) return SW_OK;
    PGresult *r = PQexec(p->conn, "SET SESSION default_transaction_read_only = on");
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    char why[2048];
    one_line(why, sizeof why, r ? PQresultErrorMessage(r) : PQerrorMessage(p->conn));
    PQclear(r);
    return ok ? SW_OK : sw_error_set(err, SW_ERR_CONNECT, "%s: cannot make the session read-only: %s", p->where, why);
}

sw_status sw_db_pg_open(const char *url, int read_only, void **conn, sw_error *err)
{
    *conn = NULL;
    pg *p = calloc(1, sizeof *p);
    if (!p) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    p->read_only = read_only;
    sw_db_redact(url, p->where, sizeof p->where);
    /* Defaults first: with expand_dbname the URL's own settings override them. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"10", "stopwise", url, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        char why[2048];
        one_line(why, sizeof why, p->conn ? PQerrorMessage(p->conn) : "out of memory");
        /* Which kind of failure, by asking whether the server answers at all:
         * - the URL's settings cannot be used (no attempt made): bad input;
         * - no answer, or the server is starting or stopping: a runtime
         *   failure (SW_ERR_CONNECT), the same command may work later;
         * - it answers but refused this login (password, user, database,
         *   pg_hba): the URL is wrong, a configuration error like a bad path
         *   (SW_ERR_INVALID). libpq gives no SQLSTATE for a failed login, so a
         *   server that is full ("too many clients") lands here too. */
        sw_status kind = SW_ERR_CONNECT;
        const char *what = "cannot connect to PostgreSQL";
        if (!p->conn) kind = SW_ERR_NOMEM;
        else if (!url_usable(url)) kind = SW_ERR_INVALID, what = "not a usable PostgreSQL URL";
        else switch (PQpingParams(keys, vals, 1)) {
            case PQPING_NO_ATTEMPT: kind = SW_ERR_INVALID, what = "not a usable PostgreSQL URL"; break;
            case PQPING_OK: kind = SW_ERR_INVALID, what = "the PostgreSQL server refused the login"; break;
            default: break;
            }
        sw_status s = sw_error_set(err, kind, "%s: %s: %s", p->where, what, why);
        PQfinish(p->conn);
        free(p);
        return s;
    }
    PQsetNoticeProcessor(p->conn, quiet, NULL);
    sw_status s = session_read_only(p, err);
    if (s) {
        PQfinish(p->conn);
        free(p);
        return s;
    }
    *conn = p;
    return SW_OK;
}

void sw_db_pg_close(void *conn)
{
    pg *p = conn;
    if (!p) return;
    PQfinish(p->conn);
    free(p);
}

sw_status sw_db_pg_reconnect(void *conn, sw_error *err)
{
    pg *p = conn;
    if (PQstatus(p->conn) == CONNECTION_OK) return SW_OK;
    /* PQreset reopens with the same parameters (the URL's search_path
     * included) and keeps the PGconn, so the notice processor stays set. */
    PQreset(p->conn);
    if (PQstatus(p->conn) == CONNECTION_OK) return session_read_only(p, err);
    char why[2048];
    one_line(why, sizeof why, PQerrorMessage(p->conn));
    return sw_error_set(err, SW_ERR_CONNECT, "%s: lost the connection to PostgreSQL and cannot reconnect: %s",
                        p->where, why);
}

static sw_status check(pg *p, PGresult *r, sw_error *err)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return SW_OK;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    sw_status s = SW_ERR_IO;
    if (PQstatus(p->conn) == CONNECTION_BAD) s = SW_ERR_CONNECT;
    else if (state) {
        /* 40001 serialization failure, 40P01 deadlock, 55P03 lock not available */
        if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")) s = SW_ERR_BUSY;
        else if (!strncmp(state, "23", 2)) s = SW_ERR_INVALID; /* integrity constraint */
        else if (!strncmp(state, "08", 2)) s = SW_ERR_CONNECT;
    }
    char why[2048];
    one_line(why, sizeof why, r ? PQresultErrorMessage(r) : PQerrorMessage(p->conn));
    return sw_error_set(err, s, "%s: %s", p->where, why);
}

static uint64_t be64(const char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | (unsigned char)b[i];
    return v;
}

static void put_be64(char *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) b[i] = (char)(v & 0xff);
}

static sw_status read_cell(PGresult *r, int row, int col, sw_db_val *v)
{
    memset(v, 0, sizeof *v);
    if (PQgetisnull(r, row, col)) return SW_OK;
    const char *b = PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col);
    uint64_t u;
    uint32_t u32;
    switch (PQftype(r, col)) {
    case OID_INT8:
        v->type = SW_DB_INT;
        v->i = (int64_t)be64(b);
        return SW_OK;
    case OID_INT4:
        v->type = SW_DB_INT;
        v->i = (int32_t)((uint32_t)(unsigned char)b[0] << 24 | (uint32_t)(unsigned char)b[1] << 16 |
                         (uint32_t)(unsigned char)b[2] << 8 | (unsigned char)b[3]);
        return SW_OK;
    case OID_INT2:
        v->type = SW_DB_INT;
        v->i = (int16_t)((unsigned char)b[0] << 8 | (unsigned char)b[1]);
        return SW_OK;
    case OID_BOOL:
        v->type = SW_DB_INT;
        v->i = b[0] != 0;
        return SW_OK;
    case OID_FLOAT8:
        v->type = SW_DB_REAL;
        u = be64(b);
        memcpy(&v->d, &u, 8);
        return SW_OK;
    case OID_FLOAT4: {
        float f;
        u32 = (uint32_t)(unsigned char)b[0] << 24 | (uint32_t)(unsigned char)b[1] << 16 |
              (uint32_t)(unsigned char)b[2] << 8 | (unsigned char)b[3];
        memcpy(&f, &u32, 4);
        v->type = SW_DB_REAL;
        v->d = f;
        return SW_OK;
    }
    case OID_TEXT:
    case OID_VARCHAR:
    case OID_NAME:
    case OID_CHAR:
    case OID_UNKNOWN:
        v->type = SW_DB_TEXT;
        v->s = malloc((size_t)len + 1);
        if (!v->s) return SW_ERR_NOMEM;
        memcpy(v->s, b, (size_t)len);
        v->s[len] = 0;
        return SW_OK;
    case OID_VOID: return SW_OK;
    default: return SW_ERR_INTERNAL;
    }
}

sw_status sw_db_pg_exec(void *conn, const char *sql, const sw_db_val *params, size_t n, sw_db_result *res,
                        sw_error *err)
{
    pg *p = conn;
    if (n > 65535) return sw_error_set(err, SW_ERR_INTERNAL, "too many SQL parameters (%zu)", n);
    const char **values = NULL;
    int *lengths = NULL, *formats = NULL;
    Oid *types = NULL;
    char *bin = NULL;
    sw_status s = SW_OK;
    if (n) {
        values = calloc(n, sizeof *values);
        lengths = calloc(n, sizeof *lengths);
        formats = calloc(n, sizeof *formats);
        types = calloc(n, sizeof *types);
        bin = malloc(n * 8);
        if (!values || !lengths || !formats || !types || !bin) {
            s = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        switch (params[i].type) {
        case SW_DB_INT:
            put_be64(bin + 8 * i, (uint64_t)params[i].i);
            values[i] = bin + 8 * i, lengths[i] = 8, formats[i] = 1, types[i] = OID_INT8;
            break;
        case SW_DB_REAL:
            memcpy(&u, &params[i].d, 8);
            put_be64(bin + 8 * i, u);
            values[i] = bin + 8 * i, lengths[i] = 8, formats[i] = 1, types[i] = OID_FLOAT8;
            break;
        case SW_DB_TEXT: values[i] = params[i].s, types[i] = OID_TEXT; break;
        default: values[i] = NULL;
        }
    }
    PGresult *r = PQexecParams(p->conn, sql, (int)n, types, values, lengths, formats, 1);
    s = check(p, r, err);
    if (!s && res && PQresultStatus(r) == PGRES_TUPLES_OK) {
        res->nrows = (size_t)PQntuples(r);
        res->ncols = (size_t)PQnfields(r);
        if (res->nrows && res->ncols) {
            res->cells = calloc(res->nrows * res->ncols, sizeof *res->cells);
            if (!res->cells) s = sw_error_set(err, SW_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; !s && i < res->nrows; i++)
            for (size_t c = 0; !s && c < res->ncols; c++) {
                s = read_cell(r, (int)i, (int)c, &res->cells[i * res->ncols + c]);
                if (s)
                    sw_error_set(err, s, "%s: unexpected column type %u in result", p->where,
                                 (unsigned)PQftype(r, (int)c));
            }
        if (s) sw_db_result_free(res);
    }
    PQclear(r);
done:
    free(values);
    free(lengths);
    free(formats);
    free(types);
    free(bin);
    return s;
}

sw_status sw_db_pg_script(void *conn, const char *sql, sw_error *err)
{
    pg *p = conn;
    PGresult *r = PQexec(p->conn, sql);
    sw_status s = check(p, r, err);
    PQclear(r);
    return s;
}
