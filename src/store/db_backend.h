/* The two backends behind db.h; each keeps its connection behind a void *. */
#ifndef SW_STORE_DB_BACKEND_H
#define SW_STORE_DB_BACKEND_H

#include "store/db.h"

/* SQLite (db_sqlite.c). sql is already expanded. read_only: the file is
 * opened with SQLITE_OPEN_READONLY and never created. */
sw_status sw_db_sqlite_open(const char *path, int create, int read_only, int busy_ms, void **conn, sw_error *err);
void sw_db_sqlite_close(void *conn);
sw_status sw_db_sqlite_exec(void *conn, const char *sql, const sw_db_val *params, size_t n, sw_db_result *res,
                            sw_error *err);
sw_status sw_db_sqlite_script(void *conn, const char *sql, sw_error *err);

/* PostgreSQL (db_pg.c). sql is already expanded, with $n parameters.
 * read_only: the session's transactions are read-only (set on every
 * connection, the reconnected ones too). */
sw_status sw_db_pg_open(const char *url, int read_only, void **conn, sw_error *err);
void sw_db_pg_close(void *conn);
sw_status sw_db_pg_exec(void *conn, const char *sql, const sw_db_val *params, size_t n, sw_db_result *res,
                        sw_error *err);
sw_status sw_db_pg_script(void *conn, const char *sql, sw_error *err);
/* Reconnects (libpq's PQreset, same parameters) if the connection was lost;
 * SW_OK at once if it is still good, SW_ERR_CONNECT if the server is still
 * unreachable. */
sw_status sw_db_pg_reconnect(void *conn, sw_error *err);

/* The location with the password of a URL replaced by "***" (db.c). */
void sw_db_redact(const char *location, char *buf, size_t len);

#endif
