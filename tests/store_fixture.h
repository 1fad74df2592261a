/* The store's test fixture: one suite body, run against both backends.
 *   STORE_TEST(name) { ... fx.location ... }
 * defines Test(sqlite, name) on a fresh file in a temporary folder and
 * Test(postgres, name) on a fresh schema (CREATE SCHEMA sw_test_<pid>_<n>,
 * selected with options=-csearch_path=... in the URL) of the server named by
 * STOPWISE_TEST_PG_URL. Without that variable the PostgreSQL tests FAIL:
 * start the server with eval "$(scripts/pg-test-server.sh start)". */
#ifndef SW_TEST_STORE_FIXTURE_H
#define SW_TEST_STORE_FIXTURE_H

#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stopwise/store.h"
#include "support.h"

static struct {
    int pg;
    char location[8192];
    char dir[4096];
    char schema[128];
} fx;

static const char *fx_pg_url(void)
{
    const char *u = getenv("STOPWISE_TEST_PG_URL");
    if (!u || !*u)
        cr_assert_fail("STOPWISE_TEST_PG_URL is not set, so the PostgreSQL half of the store's tests cannot run: "
                       "start the test server with  eval \"$(scripts/pg-test-server.sh start)\"  "
                       "(scripts/test.sh does this)");
    return u;
}

/* Runs SQL as the test user on the test database (not in fx's schema). */
static void fx_pg_admin(const char *sql)
{
    PGconn *c = PQconnectdb(fx_pg_url());
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "cannot connect to the test server: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, "SET client_min_messages = warning");
    PQclear(r);
    r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    cr_assert(ok, "%s: %s", sql, msg);
}

static void fx_setup(int pg)
{
    memset(&fx, 0, sizeof fx);
    fx.pg = pg;
    /* a scratch folder for every test (the SQLite store lives there too) */
    snprintf(fx.dir, sizeof fx.dir, "%s", sw_test_tmpdir());
    if (!pg) {
        snprintf(fx.location, sizeof fx.location, "%s/store.db", fx.dir);
        return;
    }
    static int n;
    const char *url = fx_pg_url();
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    snprintf(fx.schema, sizeof fx.schema, "sw_test_%d_%d_%ld", (int)getpid(), n++, (long)(t.tv_nsec % 1000000));
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", fx.schema);
    fx_pg_admin(sql);
    snprintf(fx.location, sizeof fx.location, "%s%coptions=-csearch_path%%3D%s", url, strchr(url, '?') ? '&' : '?',
             fx.schema);
}

static void fx_teardown(void)
{
    if (fx.schema[0]) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", fx.schema);
        fx_pg_admin(sql);
    }
    if (fx.dir[0]) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx.dir);
        cr_assert_eq(system(cmd), 0);
    }
}

/* Opens fx.location with options (NULL: defaults), asserting success. */
__attribute__((unused)) static sw_store *fx_open(const sw_store_options *o)
{
    sw_store *s = NULL;
    sw_error err = {0};
    sw_status st = sw_store_open_with(fx.location, o, &s, &err);
    cr_assert_eq(st, SW_OK, "open %s: %s", fx.location, err.msg);
    cr_assert_not_null(s);
    return s;
}

#define STORE_TEST(name)                                                        \
    static void name##_body(void);                                              \
    Test(sqlite, name, .fini = fx_teardown) { fx_setup(0); name##_body(); }      \
    Test(postgres, name, .fini = fx_teardown) { fx_setup(1); name##_body(); }    \
    static void name##_body(void)

#define ST_OK(store, call) cr_assert_eq((call), SW_OK, "%s: %s", #call, sw_store_errmsg(store))

#endif
