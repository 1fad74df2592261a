/* The store's SQL driver: one small interface over SQLite and libpq, so the
 * store's queries are written once. Private to store/ (and its tests).
 *
 * SQL text is a template: `?` marks a parameter (rewritten to $1, $2, ... for
 * PostgreSQL) and these words are replaced per backend:
 *   {ID}   an auto-increment primary key   {INT}  a 64-bit integer
 *   {REAL} a double                         {NOW}  the store's clock, Unix s
 * Results are read whole into memory (sw_db_result), typed by column. */
#ifndef SW_STORE_DB_H
#define SW_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "stopwise/base.h"

typedef enum sw_db_kind { SW_DB_SQLITE, SW_DB_POSTGRES } sw_db_kind;
typedef enum sw_db_type { SW_DB_NULL, SW_DB_INT, SW_DB_REAL, SW_DB_TEXT } sw_db_type;

/* A parameter (s borrowed) or a result cell (s owned by the result). */
typedef struct sw_db_val {
    sw_db_type type;
    int64_t i;
    double d;
    char *s;
} sw_db_val;

static inline sw_db_val sw_db_int(int64_t i) { return (sw_db_val){SW_DB_INT, i, 0, NULL}; }
/* NaN is stored as NULL (SQLite cannot hold it; both backends then agree). */
static inline sw_db_val sw_db_real(double d)
{
    return d != d ? (sw_db_val){SW_DB_NULL, 0, 0, NULL} : (sw_db_val){SW_DB_REAL, 0, d, NULL};
}
static inline sw_db_val sw_db_text(const char *s)
{
    return (sw_db_val){s ? SW_DB_TEXT : SW_DB_NULL, 0, 0, (char *)s};
}
static inline sw_db_val sw_db_null(void) { return (sw_db_val){SW_DB_NULL, 0, 0, NULL}; }

typedef struct sw_db_result {
    size_t nrows, ncols;
    sw_db_val *cells; /* nrows * ncols, row-major */
} sw_db_result;

typedef struct sw_db sw_db;

/* Connects. For SQLite, `create` 0 refuses a missing file (SW_ERR_NOT_FOUND);
 * busy_ms bounds SQLite's own busy wait for one statement. */
sw_status sw_db_open(const char *location, sw_db_kind kind, int create, int busy_ms, sw_db **out,
                     sw_error *err);
/* Connects for reading only (sw_store_open_read_only): SQLite opens the file
 * read-only, PostgreSQL sets default_transaction_read_only for the session
 * (again after every reconnect). An existing store only. */
sw_status sw_db_open_read_only(const char *location, sw_db_kind kind, int busy_ms, sw_db **out, sw_error *err);
void sw_db_close(sw_db *db);
sw_db_kind sw_db_kind_of(const sw_db *db);

/* Runs one statement with n parameters; if res is non-NULL it receives the
 * rows (free with sw_db_result_free; it is zeroed on failure). Errors map to
 * statuses: lock conflicts (SQLITE_BUSY/LOCKED, PostgreSQL serialization
 * failures and deadlocks) -> SW_ERR_BUSY, "not a database" -> SW_ERR_FORMAT,
 * a lost connection -> SW_ERR_CONNECT, constraint violations ->
 * SW_ERR_INVALID, the rest -> SW_ERR_IO. */
sw_status sw_db_exec(sw_db *db, const char *sql, const sw_db_val *params, size_t n, sw_db_result *res,
                     sw_error *err);
/* Runs several ;-separated statements without parameters (DDL). */
sw_status sw_db_script(sw_db *db, const char *sql, sw_error *err);
void sw_db_result_free(sw_db_result *r);

/* Cell accessors (row r, column c); NULL reads as 0, NAN or NULL. */
int64_t sw_db_get_int(const sw_db_result *res, size_t r, size_t c);
double sw_db_get_real(const sw_db_result *res, size_t r, size_t c);
const char *sw_db_get_text(const sw_db_result *res, size_t r, size_t c);
/* A strdup of the text cell (NULL stays NULL). */
char *sw_db_dup_text(const sw_db_result *res, size_t r, size_t c);

/* Transactions. begin takes the write lock at once on SQLite (BEGIN
 * IMMEDIATE), so a transaction never fails half-way for a lock. */
sw_status sw_db_begin(sw_db *db, sw_error *err);
sw_status sw_db_commit(sw_db *db, sw_error *err);
void sw_db_rollback(sw_db *db);
/* After SW_ERR_CONNECT: reconnects a lost PostgreSQL connection (nothing to
 * do for SQLite, whose file cannot go away under an open handle). SW_OK if
 * the connection is (again) usable. Never call it inside a transaction: the
 * transaction died with the old connection and must be redone whole. */
sw_status sw_db_reconnect(sw_db *db, sw_error *err);

/* Expands a template for a backend into a malloc'd string. */
char *sw_db_expand(sw_db_kind kind, const char *sql);

#endif
