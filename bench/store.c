/* bench/store: what the store costs a training loop.
 *
 * For each backend (SQLite in a temporary folder; PostgreSQL at
 * $STOPWISE_TEST_PG_URL, in a fresh schema) it measures, alternating ours
 * and the reference, median of REPS repetitions:
 *   - evaluations/s through sw_store_log_eval with the default batching
 *     (eval_batch 16), against a reference that writes the same rows with
 *     the backend's own API in transactions of 16 rows (sqlite3 prepared
 *     INSERT; libpq multi-row INSERT): the ratio is our layer's overhead;
 *   - the cost of one log_eval followed by a flush (one evaluation, one
 *     transaction: the worst case, an evaluation that must be durable now).
 * The store costs under 1% of training time when an evaluation interval is
 * at least 100 times the per-evaluation cost: the table prints that bound.
 *
 *   bench_store [EVALS]        (default 4000)
 * Writes bench/results/store.json (or $STOPWISE_BENCH_OUT). */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stopwise/store.h"

#define REPS 5
#define BATCH 16
#define SINGLES 200

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, msg);
    exit(1);
}

static sw_store_eval make_eval(int i, sw_store_metric *m)
{
    m->name = "phone_error";
    m->value = 1.0 / (i + 1);
    return (sw_store_eval){(uint64_t)(i + 1) * 1000, i, i * 0.1, 50.0 + i % 50, 1.0 / (i + 1), 2.0 / (i + 1), m, 1};
}

/* ours: evaluations/s with default batching */
static double ours_rate(const char *loc, int n)
{
    sw_store *s;
    sw_error err = {0};
    if (sw_store_open(loc, &s, &err)) die("open", err.msg);
    int64_t id;
    sw_store_run_info info = {.name = "bench", .task = "bench"};
    if (sw_store_run_begin(s, &info, &id)) die("begin", sw_store_errmsg(s));
    double t0 = sw_now();
    for (int i = 0; i < n; i++) {
        sw_store_metric m;
        sw_store_eval e = make_eval(i, &m);
        if (sw_store_log_eval(s, id, &e)) die("log_eval", sw_store_errmsg(s));
    }
    if (sw_store_flush(s)) die("flush", sw_store_errmsg(s));
    double dt = sw_now() - t0;
    sw_store_close(s);
    return n / dt;
}

/* ours: microseconds of one log_eval + flush */
static double ours_single_us(const char *loc)
{
    sw_store *s;
    sw_error err = {0};
    if (sw_store_open(loc, &s, &err)) die("open", err.msg);
    int64_t id;
    sw_store_run_info info = {.name = "bench-single", .task = "bench"};
    if (sw_store_run_begin(s, &info, &id)) die("begin", sw_store_errmsg(s));
    double t[SINGLES];
    for (int i = 0; i < SINGLES; i++) {
        sw_store_metric m;
        sw_store_eval e = make_eval(i, &m);
        double t0 = sw_now();
        if (sw_store_log_eval(s, id, &e) || sw_store_flush(s)) die("log_eval", sw_store_errmsg(s));
        t[i] = (sw_now() - t0) * 1e6;
    }
    sw_store_close(s);
    return median(t, SINGLES);
}

/* reference: the same rows through sqlite3 directly */
static double sqlite_ref_rate(const char *path, int n)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) die("sqlite3_open", sqlite3_errmsg(db));
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE IF NOT EXISTS ref (run_id INTEGER, seq INTEGER, tokens INTEGER, step INTEGER,"
                     " wall_s REAL, val_em REAL, val_loss REAL, train_loss REAL, PRIMARY KEY (run_id, seq));"
                     "CREATE TABLE IF NOT EXISTS ref_m (run_id INTEGER, seq INTEGER, name TEXT, value REAL,"
                     " PRIMARY KEY (run_id, seq, name)); DELETE FROM ref; DELETE FROM ref_m;",
                 NULL, NULL, NULL);
    sqlite3_stmt *st, *sm;
    sqlite3_prepare_v2(db, "INSERT INTO ref VALUES (1,?,?,?,?,?,?,?)", -1, &st, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO ref_m VALUES (1,?,?,?)", -1, &sm, NULL);
    double t0 = sw_now();
    for (int i = 0; i < n; i++) {
        if (i % BATCH == 0) sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sw_store_metric m;
        sw_store_eval e = make_eval(i, &m);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)e.tokens);
        sqlite3_bind_int64(st, 3, e.step);
        sqlite3_bind_double(st, 4, e.wall_s);
        sqlite3_bind_double(st, 5, e.val_em);
        sqlite3_bind_double(st, 6, e.val_loss);
        sqlite3_bind_double(st, 7, e.train_loss);
        if (sqlite3_step(st) != SQLITE_DONE) die("sqlite3_step", sqlite3_errmsg(db));
        sqlite3_reset(st);
        sqlite3_bind_int64(sm, 1, i);
        sqlite3_bind_text(sm, 2, m.name, -1, SQLITE_STATIC);
        sqlite3_bind_double(sm, 3, m.value);
        if (sqlite3_step(sm) != SQLITE_DONE) die("sqlite3_step", sqlite3_errmsg(db));
        sqlite3_reset(sm);
        if (i % BATCH == BATCH - 1 || i == n - 1) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double dt = sw_now() - t0;
    sqlite3_finalize(st);
    sqlite3_finalize(sm);
    sqlite3_close(db);
    return n / dt;
}

static void pg_ok(PGconn *c, PGresult *r)
{
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        die("postgresql", PQerrorMessage(c));
    PQclear(r);
}

/* reference: the same rows through libpq, one multi-row INSERT per table and
 * transaction, numbers as text */
static double pg_ref_rate(const char *url, int n)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) die("connect", PQerrorMessage(c));
    pg_ok(c, PQexec(c, "SET client_min_messages = warning;"
                       "CREATE TABLE IF NOT EXISTS ref (run_id BIGINT, seq BIGINT, tokens BIGINT, step BIGINT,"
                       " wall_s DOUBLE PRECISION, val_em DOUBLE PRECISION, val_loss DOUBLE PRECISION,"
                       " train_loss DOUBLE PRECISION, PRIMARY KEY (run_id, seq));"
                       "CREATE TABLE IF NOT EXISTS ref_m (run_id BIGINT, seq BIGINT, name TEXT,"
                       " value DOUBLE PRECISION, PRIMARY KEY (run_id, seq, name)); TRUNCATE ref, ref_m"));
    static char sql[BATCH * 200 + 256], sqm[BATCH * 100 + 256];
    double t0 = sw_now();
    for (int at = 0; at < n; at += BATCH) {
        char *p = sql + sprintf(sql, "BEGIN; INSERT INTO ref VALUES ");
        char *q = sqm + sprintf(sqm, "INSERT INTO ref_m VALUES ");
        for (int i = at; i < n && i < at + BATCH; i++) {
            sw_store_metric m;
            sw_store_eval e = make_eval(i, &m);
            p += sprintf(p, "%s(1,%d,%llu,%lld,%.17g,%.17g,%.17g,%.17g)", i > at ? "," : "", i,
                         (unsigned long long)e.tokens, (long long)e.step, e.wall_s, e.val_em, e.val_loss, e.train_loss);
            q += sprintf(q, "%s(1,%d,'%s',%.17g)", i > at ? "," : "", i, m.name, m.value);
        }
        sprintf(p, "; %s; COMMIT", sqm);
        pg_ok(c, PQexec(c, sql));
    }
    double dt = sw_now() - t0;
    PQfinish(c);
    return n / dt;
}

typedef struct row {
    const char *backend;
    double ours, ref, single_us;
} row;

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4000;
    if (n < BATCH) n = BATCH;
    char dir[] = "/tmp/stopwise-bench-store-XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp", "failed");
    char lite[256], lite_ref[256];
    snprintf(lite, sizeof lite, "%s/store.db", dir);
    snprintf(lite_ref, sizeof lite_ref, "%s/ref.db", dir);

    const char *url = getenv("STOPWISE_TEST_PG_URL");
    char pg[4096] = "", schema[64] = "";
    if (url && *url) {
        snprintf(schema, sizeof schema, "sw_bench_%d", (int)getpid());
        PGconn *c = PQconnectdb(url);
        if (PQstatus(c) != CONNECTION_OK) die("connect", PQerrorMessage(c));
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
        pg_ok(c, PQexec(c, sql));
        PQfinish(c);
        snprintf(pg, sizeof pg, "%s%coptions=-csearch_path%%3D%s", url, strchr(url, '?') ? '&' : '?', schema);
    } else {
        fprintf(stderr, "bench_store: STOPWISE_TEST_PG_URL unset: PostgreSQL skipped "
                        "(eval \"$(scripts/pg-test-server.sh start)\")\n");
    }

    row rows[2];
    int nrows = 0;
    for (int b = 0; b < 2; b++) {
        if (b == 1 && !*pg) break;
        const char *loc = b ? pg : lite;
        double ours[REPS], ref[REPS], single[REPS];
        for (int r = 0; r < REPS; r++) { /* alternate ours and the reference */
            ours[r] = ours_rate(loc, n);
            ref[r] = b ? pg_ref_rate(pg, n) : sqlite_ref_rate(lite_ref, n);
            single[r] = ours_single_us(loc);
        }
        rows[nrows++] = (row){b ? "postgresql" : "sqlite", median(ours, REPS), median(ref, REPS), median(single, REPS)};
    }

    printf("store: %d evaluations a repetition, batches of %d, median of %d\n\n", n, BATCH, REPS);
    printf("%-11s %14s %14s %7s %14s %16s %22s\n", "backend", "ours evals/s", "raw evals/s", "ratio", "us/eval",
           "us log+flush", "eval interval for <1%");
    for (int i = 0; i < nrows; i++) {
        double per = 1e6 / rows[i].ours;
        printf("%-11s %14.0f %14.0f %7.2f %14.1f %16.1f %19.1f ms\n", rows[i].backend, rows[i].ours, rows[i].ref,
               rows[i].ours / rows[i].ref, per, rows[i].single_us, per * 100 / 1000);
    }
    printf("\n(eval interval for <1%%: the store's batched cost per evaluation x 100; with a flush after every\n"
           " evaluation use the log+flush column x 100 instead)\n");

    const char *out = getenv("STOPWISE_BENCH_OUT");
    if (!out) out = "bench/results/store.json"; /* bench/store.sh runs from the repository root */
    FILE *f = fopen(out, "w");
    if (f) {
        fprintf(f, "{\n  \"bench\": \"store\",\n  \"evaluations\": %d,\n  \"batch\": %d,\n  \"repetitions\": %d,\n"
                   "  \"time\": %lld,\n  \"results\": [\n",
                n, BATCH, REPS, (long long)time(NULL));
        for (int i = 0; i < nrows; i++)
            fprintf(f,
                    "    {\"backend\": \"%s\", \"evals_per_s\": %.9g, \"reference_evals_per_s\": %.9g, "
                    "\"ratio\": %.9g, \"us_per_eval\": %.9g, \"us_log_eval_flush\": %.9g}%s\n",
                    rows[i].backend, rows[i].ours, rows[i].ref, rows[i].ours / rows[i].ref, 1e6 / rows[i].ours,
                    rows[i].single_us, i + 1 < nrows ? "," : "");
        fprintf(f, "  ]\n}\n");
        fclose(f);
        fprintf(stderr, "wrote %s\n", out);
    } else {
        fprintf(stderr, "bench_store: cannot write %s\n", out);
    }

    if (*pg) {
        PGconn *c = PQconnectdb(url);
        char sql[128];
        snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA %s CASCADE", schema);
        PQclear(PQexec(c, sql));
        PQfinish(c);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_store: could not remove %s\n", dir);
    return 0;
}
