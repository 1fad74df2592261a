/* The store's schema and its migrations. Version N is reached by running
 * migrations[1..N] in order, each in the same transaction as the row that
 * records it in schema_version, so a store is always at a whole version.
 * Never edit a migration that has shipped: add the next one. docs/STORE.md
 * explains every table. */
#include "store/internal.h"

#include <string.h>

static const char *const migrations[SW_STORE_SCHEMA_VERSION + 1] = {
    NULL,
    /* 1: runs, their curves, tags, params, studies and trials */
    "CREATE TABLE schema_version (version {INT} PRIMARY KEY, applied {REAL} NOT NULL);"
    "CREATE TABLE runs ("
    " id {ID},"
    " name TEXT NOT NULL, task TEXT NOT NULL, config TEXT NOT NULL, policy TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN"
    "  ('running','completed','stopped','pruned','diverged','failed','crashed')),"
    " stop_rule TEXT, stop_reason TEXT,"
    " tokens {INT} NOT NULL DEFAULT 0, best_tokens {INT}, best_em {REAL}, val_em {REAL}, test_em {REAL},"
    " host TEXT NOT NULL, pid {INT} NOT NULL,"
    " started {REAL} NOT NULL, ended {REAL}, heartbeat {REAL} NOT NULL);"
    "CREATE INDEX runs_task ON runs (task, started);"
    "CREATE INDEX runs_started ON runs (started);"
    /* an evaluation: the three common metrics in columns, others by name */
    "CREATE TABLE evals ("
    " run_id {INT} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    " seq {INT} NOT NULL,"
    " tokens {INT} NOT NULL, step {INT} NOT NULL, wall_s {REAL} NOT NULL,"
    " val_em {REAL}, val_loss {REAL}, train_loss {REAL},"
    " PRIMARY KEY (run_id, seq));"
    "CREATE TABLE eval_metrics ("
    " run_id {INT} NOT NULL, seq {INT} NOT NULL, name TEXT NOT NULL, value {REAL},"
    " PRIMARY KEY (run_id, seq, name),"
    " FOREIGN KEY (run_id, seq) REFERENCES evals (run_id, seq) ON DELETE CASCADE);"
    "CREATE TABLE run_tags ("
    " run_id {INT} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    " key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));"
    "CREATE INDEX run_tags_key ON run_tags (key, value);"
    "CREATE TABLE run_params ("
    " run_id {INT} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    " key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key));"
    "CREATE TABLE studies ("
    " id {ID}, name TEXT NOT NULL UNIQUE,"
    " direction TEXT NOT NULL CHECK (direction IN ('maximize','minimize')),"
    " n_trials {INT} NOT NULL DEFAULT 0, created {REAL} NOT NULL);"
    "CREATE TABLE trials ("
    " study_id {INT} NOT NULL REFERENCES studies (id) ON DELETE CASCADE,"
    " number {INT} NOT NULL,"
    " run_id {INT} NOT NULL UNIQUE REFERENCES runs (id) ON DELETE CASCADE,"
    " PRIMARY KEY (study_id, number));",
    /* 2: what the tuner keeps per task key, and artifact records */
    "CREATE TABLE policies ("
    " id {ID}, task_key TEXT NOT NULL, policy TEXT NOT NULL, report TEXT NOT NULL,"
    " created {REAL} NOT NULL);"
    "CREATE INDEX policies_key ON policies (task_key, id);"
    "CREATE TABLE tuning_state ("
    " task_key TEXT PRIMARY KEY, state TEXT NOT NULL, updated {REAL} NOT NULL);"
    "CREATE TABLE artifacts ("
    " id {ID},"
    " run_id {INT} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, bytes {INT} NOT NULL,"
    " created {REAL} NOT NULL);"
    "CREATE INDEX artifacts_run ON artifacts (run_id);",
    /* 3: branches (a cooldown forked from a trunk run at fork_tokens; ANNEAL.md) */
    "ALTER TABLE runs ADD COLUMN parent_run_id {INT} REFERENCES runs (id) ON DELETE CASCADE;"
    "ALTER TABLE runs ADD COLUMN fork_tokens {INT};"
    "CREATE INDEX runs_parent ON runs (parent_run_id);",
    /* 4: searches: a study's space and settings, its trials as a work queue
     * that workers claim, and each trial's value at each decision point */
    "ALTER TABLE studies ADD COLUMN space TEXT;"
    "ALTER TABLE studies ADD COLUMN settings TEXT;"
    "CREATE TABLE search_trials ("
    " study_id {INT} NOT NULL REFERENCES studies (id) ON DELETE CASCADE,"
    " number {INT} NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('queued','running','completed','pruned','failed')),"
    " params TEXT NOT NULL, point TEXT NOT NULL, bracket {INT} NOT NULL DEFAULT 0,"
    " worker TEXT, heartbeat {REAL}, tries {INT} NOT NULL DEFAULT 0,"
    " run_id {INT} REFERENCES runs (id) ON DELETE SET NULL,"
    " depth {INT} NOT NULL DEFAULT 0, value {REAL},"
    " tokens {INT} NOT NULL DEFAULT 0, spent {INT} NOT NULL DEFAULT 0,"
    " val_em {REAL}, test_em {REAL}, reason TEXT,"
    " created {REAL} NOT NULL, started {REAL}, ended {REAL},"
    " PRIMARY KEY (study_id, number));"
    "CREATE INDEX search_trials_state ON search_trials (study_id, state);"
    "CREATE TABLE search_rungs ("
    " study_id {INT} NOT NULL, number {INT} NOT NULL, rung {INT} NOT NULL,"
    " tokens {INT} NOT NULL, value {REAL},"
    " PRIMARY KEY (study_id, number, rung),"
    " FOREIGN KEY (study_id, number) REFERENCES search_trials (study_id, number) ON DELETE CASCADE);",
};

/* The store's version: 0 for a fresh (empty) database; SW_ERR_FORMAT for a
 * database that holds something else. */
static sw_status read_version(sw_store *s, int64_t *version)
{
    sw_db_result r;
    sw_status st;
    *version = 0;
    int has_version = 0;
    if (s->kind == SW_DB_SQLITE) {
        st = sw_store_sql(s,
                          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' "
                          "ESCAPE '!' ORDER BY name = 'schema_version' DESC, name",
                          NULL, 0, &r);
        if (st) return st;
        if (r.nrows) {
            has_version = !strcmp(sw_db_get_text(&r, 0, 0), "schema_version");
            if (!has_version) {
                st = sw_error_set(&s->err, SW_ERR_FORMAT,
                                  "%s: not a stopwise store (an SQLite database with other tables, such as '%s', "
                                  "and no schema_version table)",
                                  s->where, sw_db_get_text(&r, 0, 0));
                sw_db_result_free(&r);
                return st;
            }
        }
    } else {
        /* pg_tables, not to_regclass: a catalog query reads the statement's
         * snapshot, so after waiting for the migration lock it sees the
         * tables another process just created (to_regclass may answer from
         * this backend's catalog cache, which that wait does not refresh). */
        st = sw_store_sql(s,
                          "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
                          "AND tablename = 'schema_version'), "
                          "EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
                          "AND tablename = 'runs')",
                          NULL, 0, &r);
        if (st) return st;
        has_version = (int)sw_db_get_int(&r, 0, 0);
        if (!has_version && sw_db_get_int(&r, 0, 1)) {
            sw_db_result_free(&r);
            return sw_error_set(&s->err, SW_ERR_FORMAT,
                                "%s: not a stopwise store (the schema has a 'runs' table but no schema_version "
                                "table)",
                                s->where);
        }
    }
    sw_db_result_free(&r);
    if (!has_version) return SW_OK;
    st = sw_store_sql(s, "SELECT MAX(version) FROM schema_version", NULL, 0, &r);
    if (st) return st;
    *version = r.nrows ? sw_db_get_int(&r, 0, 0) : 0;
    sw_db_result_free(&r);
    if (*version > SW_STORE_SCHEMA_VERSION)
        return sw_error_set(&s->err, SW_ERR_VERSION,
                            "%s: the store has schema version %lld, newer than this stopwise %s supports (%d); "
                            "use a newer stopwise",
                            s->where, (long long)*version, sw_version(), SW_STORE_SCHEMA_VERSION);
    return SW_OK;
}

static sw_status migrate_tx(sw_store *s, void *ctx)
{
    (void)ctx;
    sw_status st;
    if (s->kind == SW_DB_POSTGRES) {
        /* Eight workers opening a fresh database at once: the first takes this
         * lock and creates the tables; the others wait, then find them. The
         * key is per schema, so stores in separate schemas do not wait. */
        st = sw_store_sql(s, "SELECT pg_advisory_xact_lock(5701, hashtext(COALESCE(current_schema(), '')))", NULL,
                          0, NULL);
        if (st) return st;
    }
    int64_t v;
    st = read_version(s, &v);
    for (int64_t k = v + 1; !st && k <= SW_STORE_SCHEMA_VERSION; k++) {
        st = sw_db_script(s->db, migrations[k], &s->err);
        if (st) break;
        sw_db_val p = sw_db_int(k);
        st = sw_store_sql(s, "INSERT INTO schema_version (version, applied) VALUES (?, {NOW})", &p, 1, NULL);
    }
    return st;
}

sw_status sw_store_migrate(sw_store *s)
{
    int64_t v;
    sw_status st = read_version(s, &v);
    if (st || v == SW_STORE_SCHEMA_VERSION) return st;
    if (v == 0 && !s->opt.create)
        return sw_error_set(&s->err, SW_ERR_NOT_FOUND, "%s: no stopwise store there (no tables yet)", s->where);
    if (s->read_only) /* a reader cannot migrate, and reads columns the migrations add */
        return sw_error_set(&s->err, SW_ERR_VERSION,
                            "%s: the store has schema version %lld, older than this stopwise's (%d), and is open "
                            "read-only; any command that writes (or `stopwise runs ls --store ...`) migrates it",
                            s->where, (long long)v, SW_STORE_SCHEMA_VERSION);
    st = sw_store_tx(s, migrate_tx, NULL);
    if (st == SW_ERR_INVALID || st == SW_ERR_IO) {
        /* Belt and braces: if another process won a race the lock did not
         * prevent, the store is now current and that is success. */
        sw_error first = s->err;
        if (!read_version(s, &v) && v == SW_STORE_SCHEMA_VERSION) return SW_OK;
        s->err = first;
    }
    return st;
}
