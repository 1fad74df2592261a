/* bench/ui_fill: a big store for the dashboard's scale bench (bench/ui.sh).
 *
 * Creates the store through the store's API (so the schema is the real one,
 * at the current version), then writes RUNS runs and EVALS evaluations, each
 * with the metrics the trainer records (cooldown, lr, forecast_em,
 * forecast_lo, forecast_hi), directly through SQLite in one transaction:
 * minutes of store API calls become seconds. The runs look like real ones:
 * 20 tasks, budgets, stopped (patience, gain), completed, pruned and crashed
 * runs, curves that rise and level off, a cooldown after some stops.
 *
 *   bench_ui_fill STORE.db [RUNS] [EVALS]     (default 10000 1000000)
 * Prints one JSON line: runs, evals, metric rows, seconds. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stopwise/store.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void check(int rc, sqlite3 *db, const char *what)
{
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return;
    fprintf(stderr, "bench_ui_fill: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    check(sqlite3_prepare_v2(db, sql, -1, &st, NULL), db, sql);
    return st;
}

static void step(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    check(sqlite3_step(st), db, what);
    sqlite3_reset(st);
}

/* a deterministic generator (xorshift64*) */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double uniform(void)
{
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_ui_fill STORE.db [RUNS] [EVALS]\n");
        return 2;
    }
    const char *path = argv[1];
    long runs = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;
    long evals = argc > 3 ? strtol(argv[3], NULL, 10) : 1000000;
    if (runs < 1 || evals < runs) {
        fprintf(stderr, "bench_ui_fill: need RUNS >= 1 and EVALS >= RUNS\n");
        return 2;
    }
    unlink(path);
    double t0 = now();
    sw_store *s;
    sw_error err;
    if (sw_store_open(path, &s, &err)) { /* the real schema, at its version */
        fprintf(stderr, "bench_ui_fill: %s\n", err.msg);
        return 1;
    }
    sw_store_close(s);

    sqlite3 *db;
    check(sqlite3_open(path, &db), db, "open");
    check(sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", NULL, NULL, NULL), db, "begin");
    sqlite3_stmt *run = prep(db, "INSERT INTO runs (id, name, task, config, policy, status, stop_rule, stop_reason, "
                                 "tokens, best_tokens, best_em, val_em, test_em, host, pid, started, ended, heartbeat) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'bench', 1, ?, ?, ?)");
    sqlite3_stmt *ev = prep(db, "INSERT INTO evals (run_id, seq, tokens, step, wall_s, val_em, val_loss, train_loss) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *mt = prep(db, "INSERT INTO eval_metrics (run_id, seq, name, value) VALUES (?, ?, ?, ?)");
    static const char *const metric[] = {"cooldown", "lr", "forecast_em", "forecast_lo", "forecast_hi"};
    long metric_rows = 0, written = 0;
    double start = 1.7e9;
    for (long id = 1; id <= runs; id++) {
        /* this run's share of the evaluations, so that they add up exactly */
        long n = evals / runs + (id <= evals % runs ? 1 : 0);
        char task[32], name[64], config[160];
        snprintf(task, sizeof task, "task-%02ld", id % 20);
        snprintf(name, sizeof name, "run %ld seed %ld", id, id % 7);
        long budget = 100000L * (1 + id % 5);
        snprintf(config, sizeof config, "{\"budget\":%ld,\"data\":\"%s\",\"seed\":%ld}", budget, task, id % 7);
        double ceiling = 60 + 35 * uniform(), rate = 3 + 5 * uniform();
        int kind = (int)(id % 10); /* 0-4 stopped, 5-7 completed, 8 pruned, 9 crashed */
        int cool = kind < 2 ? 3 : 0; /* a cooldown after some stops */
        /* the share of the budget the curve covers: a stop or a prune ends it early */
        double frac = kind < 5 ? 0.4 + 0.5 * uniform() : kind < 8 ? 1.0 : 0.2 + 0.5 * uniform();
        long every = (long)(frac * (double)budget / (double)n);
        if (every < 1) every = 1;
        long used = n;
        double best = -1;
        long best_tokens = 0;
        for (long k = 0; k < used; k++, written++) {
            long tokens = (k + 1) * every;
            int in_cool = k >= used - cool;
            double x = frac * (double)(k + 1) / (double)n;
            double em = ceiling * (1 - exp(-rate * x)) + 1.5 * (uniform() - 0.5);
            if (!in_cool && em > best) best = em, best_tokens = tokens;
            sqlite3_bind_int64(ev, 1, id), sqlite3_bind_int64(ev, 2, k), sqlite3_bind_int64(ev, 3, tokens);
            sqlite3_bind_int64(ev, 4, tokens / 64), sqlite3_bind_double(ev, 5, 0.01 * (double)tokens / 64);
            sqlite3_bind_double(ev, 6, em), sqlite3_bind_double(ev, 7, 2 * exp(-rate * x) + 0.3);
            sqlite3_bind_double(ev, 8, 2.2 * exp(-rate * x) + 0.25);
            step(db, ev, "evaluation");
            double v[] = {in_cool, 1e-3 * (1 - x), best + 2, best, best + 6};
            for (int m = 0; m < 5; m++, metric_rows++) {
                sqlite3_bind_int64(mt, 1, id), sqlite3_bind_int64(mt, 2, k);
                sqlite3_bind_text(mt, 3, metric[m], -1, SQLITE_STATIC), sqlite3_bind_double(mt, 4, v[m]);
                step(db, mt, "metric");
            }
        }
        static const char *const status[] = {"stopped", "stopped", "stopped", "stopped", "stopped",
                                             "completed", "completed", "completed", "pruned", "running"};
        double t = start + (double)id * 60;
        sqlite3_bind_int64(run, 1, id);
        sqlite3_bind_text(run, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(run, 3, task, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(run, 4, config, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(run, 5, kind % 2 ? "gain=0.2,diverge" : "patience=5,diverge", -1, SQLITE_STATIC);
        sqlite3_bind_text(run, 6, status[kind], -1, SQLITE_STATIC);
        if (kind < 5) {
            sqlite3_bind_text(run, 7, kind % 2 ? "gain" : "patience", -1, SQLITE_STATIC);
            sqlite3_bind_text(run, 8, "no gain worth its tokens", -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(run, 7);
            sqlite3_bind_null(run, 8);
        }
        sqlite3_bind_int64(run, 9, used * every);
        sqlite3_bind_int64(run, 10, best_tokens);
        if (kind == 9) { /* crashed: still marked running, stale heartbeat, no result */
            for (int c = 11; c <= 13; c++) sqlite3_bind_null(run, c);
            sqlite3_bind_double(run, 14, t);
            sqlite3_bind_null(run, 15);
            sqlite3_bind_double(run, 16, t + 30);
        } else {
            sqlite3_bind_double(run, 11, best), sqlite3_bind_double(run, 12, best - 0.2);
            sqlite3_bind_double(run, 13, best - 1);
            sqlite3_bind_double(run, 14, t), sqlite3_bind_double(run, 15, t + 50), sqlite3_bind_double(run, 16, t + 50);
        }
        step(db, run, "run");
    }
    check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
    check(sqlite3_exec(db, "ANALYZE", NULL, NULL, NULL), db, "analyze");
    sqlite3_finalize(run);
    sqlite3_finalize(ev);
    sqlite3_finalize(mt);
    sqlite3_close(db);
    printf("{\"runs\": %ld, \"evals\": %ld, \"metric_rows\": %ld, \"seconds\": %.1f}\n", runs, written, metric_rows,
           now() - t0);
    return 0;
}
