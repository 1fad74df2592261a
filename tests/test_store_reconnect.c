/* store/: a PostgreSQL connection lost in the middle of a run (issue 10,
 * fault injection). The server ends the store's session, as a restart or a
 * failover does (pg_terminate_backend from a second connection: the same
 * effect on the client, without stopping the shared test server). The next
 * write reconnects and redoes its transaction: every evaluation lands once,
 * none is lost or doubled. A full server restart is exercised by
 * bench/faults.sh on a server of its own. */
#include "store_fixture.h"

#include "store/internal.h"

#include <math.h>

/* The backend process id of the store's connection. */
static int64_t backend_pid(sw_store *s)
{
    sw_db_result r;
    ST_OK(s, sw_store_sql(s, "SELECT pg_backend_pid()::bigint", NULL, 0, &r));
    cr_assert_eq(r.nrows, 1);
    int64_t pid = sw_db_get_int(&r, 0, 0);
    sw_db_result_free(&r);
    return pid;
}

static void terminate(int64_t pid)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)pid);
    fx_pg_admin(sql);
    usleep(100 * 1000); /* the backend exits asynchronously */
}

static sw_store_eval ev(uint64_t tokens)
{
    return (sw_store_eval){.tokens = tokens, .step = (int64_t)tokens / 10, .wall_s = (double)tokens / 1000,
                           .val_em = (double)(tokens % 97), .val_loss = 1, .train_loss = 2};
}

Test(postgres, lost_connection_is_reconnected_and_the_batch_redone, .fini = fx_teardown)
{
    fx_setup(1);
    sw_store_options o;
    sw_store_options_default(&o);
    o.eval_batch = 4;
    sw_store *s = fx_open(&o);
    sw_store_run_info info = {.name = "reconnect", .task = "t"};
    int64_t id;
    ST_OK(s, sw_store_run_begin(s, &info, &id));
    uint64_t tokens = 0;
    for (int i = 0; i < 6; i++) { /* one batch of 4 committed, 2 pending */
        sw_store_eval e = ev(tokens += 1000);
        ST_OK(s, sw_store_log_eval(s, id, &e));
    }
    int64_t first = backend_pid(s);
    terminate(first);
    /* the next batch fills and flushes on a dead connection: reconnect, redo */
    for (int i = 0; i < 6; i++) {
        sw_store_eval e = ev(tokens += 1000);
        ST_OK(s, sw_store_log_eval(s, id, &e));
    }
    ST_OK(s, sw_store_flush(s));
    int64_t second = backend_pid(s);
    cr_assert_neq(first, second, "the store should be on a new connection");
    /* a read on its own after a loss reconnects too */
    terminate(second);
    sw_store_curve c;
    sw_status st = sw_store_curve_get(s, id, &c);
    if (st) { /* the read that discovers the loss may fail once; the next one reconnects */
        cr_assert_eq(st, SW_ERR_CONNECT, "%s", sw_store_errmsg(s));
        ST_OK(s, sw_store_curve_get(s, id, &c));
    }
    cr_assert_eq(c.n, 12, "%zu evaluations stored, 12 logged", c.n);
    for (size_t i = 0; i < c.n; i++) cr_assert_eq(c.evals[i].tokens, (i + 1) * 1000);
    sw_store_curve_clear(&c);
    terminate(backend_pid(s));
    sw_store_run_result res = {.status = SW_RUN_COMPLETED, .tokens = tokens, .best_em = 50, .val_em = NAN, .test_em = NAN};
    ST_OK(s, sw_store_run_end(s, id, &res));
    sw_store_close(s);

    /* what another handle reads */
    s = fx_open(NULL);
    sw_store_run r;
    ST_OK(s, sw_store_run_get(s, id, &r));
    cr_assert_eq(r.status, SW_RUN_COMPLETED);
    cr_assert_eq(r.n_evals, 12);
    sw_store_run_clear(&r);
    sw_store_close(s);
}

/* A batch redone after its COMMIT landed (the reply was lost with the
 * connection) writes nothing twice and does not fail: evaluation inserts skip
 * a (run, seq) already there. The lost reply is staged by writing the queued
 * evaluation's row behind the handle's back before it flushes. */
static void redone_batch_body(void)
{
    sw_store *s = fx_open(NULL);
    sw_store_run_info info = {.name = "redo", .task = "t"};
    int64_t id;
    ST_OK(s, sw_store_run_begin(s, &info, &id));
    sw_store_metric m[] = {{"lr", 0.5}};
    sw_store_eval e = ev(1000);
    e.metrics = m;
    e.n_metrics = 1;
    ST_OK(s, sw_store_log_eval(s, id, &e)); /* queued as seq 0 */
    sw_db_val p[] = {sw_db_int(id), sw_db_int(id)};
    ST_OK(s, sw_store_sql(s, "INSERT INTO evals (run_id, seq, tokens, step, wall_s) VALUES (?, 0, 1000, 100, 1)", p, 1,
                          NULL));
    ST_OK(s, sw_store_sql(s, "INSERT INTO eval_metrics (run_id, seq, name, value) VALUES (?, 0, 'lr', 0.5)", p + 1, 1,
                          NULL));
    ST_OK(s, sw_store_flush(s));
    e = ev(2000);
    ST_OK(s, sw_store_log_eval(s, id, &e));
    sw_store_curve c;
    ST_OK(s, sw_store_curve_get(s, id, &c));
    cr_assert_eq(c.n, 2, "%zu evaluations", c.n);
    cr_assert_eq(c.evals[0].tokens, 1000);
    cr_assert_eq(c.evals[1].tokens, 2000);
    sw_store_curve_clear(&c);
    sw_store_close(s);
}
Test(sqlite, redone_batch_writes_nothing_twice, .fini = fx_teardown) { fx_setup(0); redone_batch_body(); }
Test(postgres, redone_batch_writes_nothing_twice, .fini = fx_teardown) { fx_setup(1); redone_batch_body(); }
