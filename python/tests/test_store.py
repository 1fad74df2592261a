"""The store from Python: a run started, logged and finished from Python is
what `stopwise runs ls` and `runs show` read, in PostgreSQL (the server named
by STOPWISE_TEST_PG_URL, a fresh schema per test; unset, the test FAILS, as
the C store tests do) and in SQLite; queries and curves read back."""

import json
import os
import subprocess
import time
import unittest
import uuid

import support
import stopwise


def pg_url(test):
    """A fresh schema on the test server, dropped after the test."""
    url = os.environ.get("STOPWISE_TEST_PG_URL")
    if not url:
        raise AssertionError("STOPWISE_TEST_PG_URL is not set, so the PostgreSQL store test cannot run: start the "
                             "test server with  eval \"$(scripts/pg-test-server.sh start)\"  (scripts/test.sh does this)")
    schema = "sw_pytest_%d_%s" % (os.getpid(), uuid.uuid4().hex[:8])

    def psql(sql):
        p = subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", "SET client_min_messages = warning; " + sql],
                           capture_output=True, text=True)
        if p.returncode:
            raise AssertionError("psql %s: %s" % (sql, p.stderr))

    psql("CREATE SCHEMA %s" % schema)
    test.addCleanup(psql, "DROP SCHEMA %s CASCADE" % schema)
    return "%s%soptions=-csearch_path%%3D%s" % (url, "&" if "?" in url else "?", schema)


class StoreRoundTrip:
    """The body, run against each backend (location() gives the store)."""

    def write_run(self, store):
        rows = support.synthetic_rows(5)
        ctl = stopwise.Controller("patience=5:min_delta=0.1,diverge", budget=rows[-1]["tokens"])
        run = store.start_run("py loop seed 5", "pytest-task", config={"lr": 0.01, "model": "mlp"},
                              policy=ctl.policy, tags={"origin": "python"}, params={"seed": 5})
        for row in rows:
            d = ctl.report(tokens=row["tokens"], em=row["val_em"], loss=row["val_loss"], train_loss=row["train_loss"],
                           step=row["step"])
            run.log(tokens=row["tokens"], em=row["val_em"], loss=row["val_loss"], train_loss=row["train_loss"],
                    step=row["step"], lr=0.01)
            if d.stop:
                break
        run.finish(decision=d, val_em=d.best.value)
        return run, d, rows

    def test_written_from_python_read_by_the_cli(self):
        loc = self.location()
        with stopwise.Store(loc) as store:
            run, d, rows = self.write_run(store)
            self.assertTrue(d.stop)
            self.assertEqual(store.backend, self.backend)
            other = store.start_run("still running", "other-task")
            other.log(tokens=10, em=1.0)
            store.flush()

        ls = support.cli_json("runs", "ls", "--store", loc)
        self.assertEqual(ls["count"], 2)
        got = [r for r in ls["runs"] if r["id"] == run.id]
        self.assertEqual(len(got), 1)
        r = got[0]
        self.assertEqual((r["name"], r["task"], r["status"]), ("py loop seed 5", "pytest-task", "stopped"))
        self.assertEqual(r["stop_rule"], "patience")
        self.assertEqual(r["stop_reason"], d.reason)
        self.assertEqual(r["policy"], "patience=5:min_delta=0.1,diverge")
        self.assertEqual(r["tokens"], d.tokens)
        self.assertEqual(r["best_tokens"], d.best.tokens)
        self.assertEqual(r["best_em"], d.best.value)
        self.assertEqual(r["val_em"], d.best.value)
        self.assertEqual(r["evaluations"], d.index + 1)
        # the text listing names it too
        text = support.cli("runs", "ls", "--store", loc).stdout
        self.assertIn("py loop seed 5", text)
        show = support.cli_json("runs", "show", str(run.id), "--store", loc)
        self.assertEqual(show["config"], {"lr": 0.01, "model": "mlp"})
        self.assertEqual(show["tags"], {"origin": "python"})
        self.assertEqual(show["params"], {"seed": "5"})

        # and from Python: queries and the curve
        with stopwise.Store(loc, create=False) as store:
            runs = store.runs(task="pytest-task")
            self.assertEqual([x.id for x in runs], [run.id])
            x = runs[0]
            self.assertEqual((x.status, x.stop_rule, x.best_em, x.evaluations), ("stopped", "patience", d.best.value,
                                                                                  d.index + 1))
            self.assertEqual(json.loads(x.config), {"lr": 0.01, "model": "mlp"})
            self.assertIsNotNone(x.ended)
            self.assertEqual([y.name for y in store.runs(status="running")], ["still running"])
            self.assertEqual(store.runs(tags={"origin": "python"})[0].id, run.id)
            self.assertEqual(store.runs(tags={"origin": None})[0].id, run.id)
            self.assertEqual(len(store.runs(limit=1)), 1)
            self.assertEqual(store.runs(ids=[run.id])[0].id, run.id)
            self.assertEqual(store.run(run.id), x)
            curve = store.curve(run.id)
            self.assertEqual(len(curve), d.index + 1)
            self.assertEqual(curve.column("val_em"), [row["val_em"] for row in rows[: d.index + 1]])
            self.assertEqual(curve.column("lr"), [0.01] * (d.index + 1))
            # the stored curve replays to the same stop
            self.assertEqual(stopwise.replay(str(x.policy), curve).stop_index, d.index)
            with self.assertRaises(stopwise.StopwiseError) as cm:
                store.run(999999)
            self.assertEqual(cm.exception.status, "not_found")
            with self.assertRaises(stopwise.StopwiseError):
                store.runs(status="bogus")

    def test_finish_without_a_decision(self):
        with stopwise.Store(self.location()) as store:
            run = store.start_run("manual")
            run.log(tokens=100, em=10.0)
            run.log(tokens=200, em=30.0)
            run.log(tokens=300, em=20.0)
            run.finish("completed", test_em=19.5)
            r = store.run(run.id)
            self.assertEqual((r.status, r.tokens, r.best_tokens, r.best_em, r.test_em, r.val_em),
                             ("completed", 300, 200, 30.0, 19.5, None))
            with self.assertRaises(stopwise.StopwiseError):
                store.start_run("x").finish()  # neither status nor decision
        with self.assertRaises(stopwise.StopwiseError):
            store.runs()  # closed


class Postgres(StoreRoundTrip, unittest.TestCase):
    backend = "postgresql"

    def location(self):
        return pg_url(self)


class SQLite(StoreRoundTrip, unittest.TestCase):
    backend = "sqlite"

    def location(self):
        return os.path.join(support.tmpdir(self), "runs.db")

    def test_create_false_does_not_create(self):
        path = os.path.join(support.tmpdir(self), "absent.db")
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.Store(path, create=False)
        self.assertEqual(cm.exception.status, "not_found")
        self.assertFalse(os.path.exists(path))

    def test_a_run_without_heartbeat_reads_crashed(self):
        loc = self.location()
        with stopwise.Store(loc, stale_after=0.2) as store:
            run = store.start_run("quiet")
            time.sleep(0.5)
            self.assertEqual(store.run(run.id).status, "crashed")
            run.heartbeat()
            self.assertEqual(store.run(run.id).status, "running")


if __name__ == "__main__":
    support.main()
