/* stopwise runs: ls, show, compare, export and rm through the CLI, with
 * --json, exit codes and messages for bad stores and unknown runs. */
#include <jansson.h>
#include <math.h>

#include "store/db.h"
#include "store_fixture.h"

/* Three runs: 1 alpha (cmudict, completed, 5 evaluations), 2 beta (fmnist,
 * stopped, 3 evaluations), 3 gamma (cmudict, running, none). */
static void fill(const char *location)
{
    sw_store *s;
    sw_error err = {0};
    cr_assert_eq(sw_store_open(location, &s, &err), SW_OK, "%s", err.msg);
    sw_store_run_info a = {"alpha", "cmudict", "{\"model\":\"gpt\",\"lr\":0.001}", "patience:5", NULL, 0, 0, 0};
    sw_store_run_info b = {"beta, \"quoted\"", "fmnist", "{\"model\":\"mlp\"}", "gl:5", NULL, 0, 0, 0};
    sw_store_run_info g = {"gamma", "cmudict", "{}", "", NULL, 0, 0, 0};
    int64_t ia, ib, ig;
    ST_OK(s, sw_store_run_begin(s, &a, &ia));
    double em[] = {10, 30, 55, 60, 58};
    for (int i = 0; i < 5; i++) {
        sw_store_metric m = {"phone_error", 0.5 - 0.05 * i};
        sw_store_eval e = {(uint64_t)(i + 1) * 1000, (i + 1) * 10, i * 1.0, em[i], 1.0 / (i + 1), 2.0, &m, 1};
        ST_OK(s, sw_store_log_eval(s, ia, &e));
    }
    sw_store_run_result ra = {SW_RUN_COMPLETED, NULL, NULL, 5000, 4000, 60, 60, 59};
    ST_OK(s, sw_store_run_end(s, ia, &ra));
    ST_OK(s, sw_store_tag_set(s, ia, "env", "prod"));
    ST_OK(s, sw_store_param_set(s, ia, "lr", "0.001"));
    ST_OK(s, sw_store_run_begin(s, &b, &ib));
    for (int i = 0; i < 3; i++) {
        sw_store_eval e = {(uint64_t)(i + 1) * 500, i, i * 1.0, 80 + i, NAN, NAN, NULL, 0};
        ST_OK(s, sw_store_log_eval(s, ib, &e));
    }
    sw_store_run_result rb = {SW_RUN_STOPPED, "patience", "no gain in 5 evaluations", 1500, 1500, 82, 82, 81};
    ST_OK(s, sw_store_run_end(s, ib, &rb));
    ST_OK(s, sw_store_run_begin(s, &g, &ig));
    cr_assert(ia == 1 && ib == 2 && ig == 3);
    sw_store_close(s);
}

static char store[8400];

static void setup_sqlite(void)
{
    fx_setup(0);
    fill(fx.location);
    snprintf(store, sizeof store, "--store '%s'", fx.location);
}

/* Runs `stopwise runs ARGS --store ...`; returns the exit code. */
static int runs(const char *args, char **out, char **err)
{
    size_t len = strlen(args) + strlen(store) + 8;
    char *cmd = malloc(len);
    snprintf(cmd, len, "runs %s %s", args, store);
    int rc = sw_test_cli(cmd, out, err);
    free(cmd);
    return rc;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    cr_assert_not_null(j, "stdout is not one JSON object: %s\n%s", e.text, text);
    return j;
}

Test(runs, ls_filters_and_json, .init = setup_sqlite, .fini = fx_teardown)
{
    char *out, *err;
    cr_assert_eq(runs("ls --json", &out, &err), 0, "%s", err);
    json_t *j = parse(out);
    cr_assert_eq(json_integer_value(json_object_get(j, "count")), 3);
    json_t *arr = json_object_get(j, "runs");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(arr, 0), "id")), 3, "newest first");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 2), "status")), "completed");
    json_decref(j);
    free(out), free(err);

    cr_assert_eq(runs("ls --json --task cmudict", &out, &err), 0);
    j = parse(out);
    cr_assert_eq(json_integer_value(json_object_get(j, "count")), 2);
    json_decref(j);
    free(out), free(err);

    cr_assert_eq(runs("ls --json --status stopped", &out, &err), 0);
    j = parse(out);
    cr_assert_eq(json_integer_value(json_object_get(j, "count")), 1);
    json_decref(j);
    free(out), free(err);

    cr_assert_eq(runs("ls --json --tag env=prod --limit 5", &out, &err), 0);
    j = parse(out);
    cr_assert_eq(json_integer_value(json_object_get(j, "count")), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(j, "runs"), 0), "id")), 1);
    json_decref(j);
    free(out), free(err);

    cr_assert_eq(runs("ls", &out, &err), 0);
    cr_assert(strstr(out, "alpha") && strstr(out, "gamma") && strstr(out, "patience: no gain"), "%s", out);
    free(out), free(err);

    cr_assert_eq(runs("ls --status sideways", &out, &err), 2);
    cr_assert(strstr(err, "--status expects"), "%s", err);
    cr_assert_str_eq(out, "");
    free(out), free(err);
}

Test(runs, show_and_compare, .init = setup_sqlite, .fini = fx_teardown)
{
    char *out, *err;
    cr_assert_eq(runs("show 1 --json", &out, &err), 0, "%s", err);
    json_t *j = parse(out);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "completed");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "config"), "model")), "gpt");
    json_t *c = json_object_get(j, "curve");
    cr_assert_eq(json_integer_value(json_object_get(c, "evaluations")), 5);
    cr_assert_eq(json_real_value(json_object_get(c, "best_val_em")), 60.0);
    cr_assert_eq(json_integer_value(json_object_get(c, "best_tokens")), 4000);
    cr_assert_eq(json_integer_value(json_object_get(c, "first_tokens")), 1000);
    cr_assert_eq(json_integer_value(json_object_get(c, "last_tokens")), 5000);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "tags"), "env")), "prod");
    json_decref(j);
    free(out), free(err);

    cr_assert_eq(runs("show 2", &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "stopped (patience: no gain in 5 evaluations)"), "%s", out);
    cr_assert(strstr(out, "3 evaluations, tokens 500 to 1.5k; best val EM 82.00"), "%s", out);
    free(out), free(err);

    cr_assert_eq(runs("show 99", &out, &err), 2);
    cr_assert(strstr(err, "no run 99"), "%s", err);
    free(out), free(err);
    cr_assert_eq(runs("show abc", &out, &err), 2);
    cr_assert(strstr(err, "not a run id"), "%s", err);
    free(out), free(err);
    cr_assert_eq(runs("show", &out, &err), 2);
    free(out), free(err);

    cr_assert_eq(runs("compare 1 2 --json", &out, &err), 0, "%s", err);
    j = parse(out);
    cr_assert_eq(json_array_size(json_object_get(j, "runs")), 2);
    json_decref(j);
    free(out), free(err);
    cr_assert_eq(runs("compare 1 2", &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "run 1") && strstr(out, "run 2") && strstr(out, "param lr"), "%s", out);
    free(out), free(err);
    cr_assert_eq(runs("compare 1 77", &out, &err), 2);
    free(out), free(err);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

Test(runs, export_formats, .init = setup_sqlite, .fini = fx_teardown)
{
    char *out, *err;
    cr_assert_eq(runs("export", &out, &err), 0, "%s", err);
    cr_assert_eq(count_lines(out), 4, "header and 3 runs:\n%s", out);
    cr_assert(!strncmp(out, "id,name,task,status,", 20), "%s", out);
    cr_assert(strstr(out, "\"beta, \"\"quoted\"\"\""), "RFC 4180 quoting:\n%s", out);
    free(out), free(err);

    cr_assert_eq(runs("export --curves", &out, &err), 0, "%s", err);
    cr_assert_eq(count_lines(out), 9, "header and 5 + 3 evaluations:\n%s", out);
    cr_assert(!strncmp(out, "run_id,eval,tokens,step,wall_s,val_em,val_loss,train_loss,phone_error\n", 70), "%s", out);
    cr_assert(strstr(out, "\n1,3,4000,40,3,60,0.25,2,0.34999999999999998\n"), "%s", out);
    free(out), free(err);

    cr_assert_eq(runs("export --curves --format jsonl --run 2", &out, &err), 0, "%s", err);
    cr_assert_eq(count_lines(out), 3);
    json_t *j = parse(strtok(out, "\n"));
    cr_assert_eq(json_integer_value(json_object_get(j, "run_id")), 2);
    cr_assert(json_is_null(json_object_get(j, "val_loss")), "NaN exports as null");
    json_decref(j);
    free(out), free(err);

    cr_assert_eq(runs("export --format jsonl", &out, &err), 0, "%s", err);
    cr_assert_eq(count_lines(out), 3);
    free(out), free(err);

    cr_assert_eq(runs("export --json --run 1 --run 2", &out, &err), 0, "%s", err);
    j = parse(out);
    cr_assert_eq(json_array_size(json_object_get(j, "runs")), 2);
    json_decref(j);
    free(out), free(err);

    char args[9000];
    snprintf(args, sizeof args, "export --curves --json --output '%s/curves.csv'", fx.dir);
    cr_assert_eq(runs(args, &out, &err), 0, "%s", err);
    j = parse(out);
    cr_assert_eq(json_integer_value(json_object_get(j, "count")), 8);
    json_decref(j);
    free(out), free(err);
    snprintf(args, sizeof args, "%s/curves.csv", fx.dir);
    char *file = sw_test_slurp(args, NULL);
    cr_assert_not_null(file);
    cr_assert_eq(count_lines(file), 9);
    free(file);

    cr_assert_eq(runs("export --run 99", &out, &err), 2);
    cr_assert(strstr(err, "no run 99"), "%s", err);
    free(out), free(err);
    cr_assert_eq(runs("export --format xml", &out, &err), 2);
    free(out), free(err);
}

Test(runs, rm_all_or_nothing, .init = setup_sqlite, .fini = fx_teardown)
{
    char *out, *err;
    cr_assert_eq(runs("rm 2 --json", &out, &err), 0, "%s", err);
    json_t *j = parse(out);
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(j, "removed"), 0)), 2);
    json_decref(j);
    free(out), free(err);
    cr_assert_eq(runs("rm 2", &out, &err), 2);
    cr_assert(strstr(err, "no run 2"), "%s", err);
    free(out), free(err);
    cr_assert_eq(runs("rm 1 99", &out, &err), 2);
    free(out), free(err);
    cr_assert_eq(runs("ls --json", &out, &err), 0);
    j = parse(out);
    cr_assert_eq(json_integer_value(json_object_get(j, "count")), 2, "run 1 stays when 99 is unknown");
    json_decref(j);
    free(out), free(err);
}

/* The trainer's reasons begin with their rule ("patience: no val_em ..."):
 * runs ls and runs show name the rule once. */
Test(runs, ls_names_the_rule_once)
{
    char path[4200], cmd[4400], *out = NULL, *err = NULL;
    snprintf(path, sizeof path, "%s/r.db", sw_test_tmpdir());
    sw_store *s;
    sw_error e = {0};
    cr_assert_eq(sw_store_open(path, &s, &e), SW_OK, "%s", e.msg);
    sw_store_run_info info = {"r", "copy", "{}", "patience=3", NULL, 0, 0, 0};
    int64_t id;
    ST_OK(s, sw_store_run_begin(s, &info, &id));
    sw_store_run_result res = {SW_RUN_STOPPED, "patience", "patience: no val_em improvement for 3 evaluations",
                               900, 900, 50, 50, 49};
    ST_OK(s, sw_store_run_end(s, id, &res));
    sw_store_close(s);
    snprintf(cmd, sizeof cmd, "runs ls --store '%s'", path);
    cr_assert_eq(sw_test_cli(cmd, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, " patience: no val_em improvement for 3 evaluations"), "%s", out);
    cr_assert_null(strstr(out, "patience: patience:"), "%s", out);
    free(out), free(err);
    snprintf(cmd, sizeof cmd, "runs show 1 --store '%s'", path);
    cr_assert_eq(sw_test_cli(cmd, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "stopped (patience: no val_em improvement for 3 evaluations)"), "%s", out);
    free(out), free(err);
}

Test(runs, bad_stores_exit_2)
{
    char dir[4096]; /* sw_test_tmpdir's buffer is reused by sw_test_cli */
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    char cmd[9000];
    char *out, *err;
    /* random bytes */
    snprintf(cmd, sizeof cmd, "head -c 8192 /dev/urandom > '%s/junk.db' && %s runs ls --store '%s/junk.db'", dir,
             STOPWISE_CLI, dir);
    cr_assert_eq(sw_test_sh(cmd, &out, &err), 2);
    cr_assert(strstr(err, "junk.db: not a stopwise store"), "%s", err);
    free(out), free(err);
    /* missing */
    snprintf(cmd, sizeof cmd, "runs ls --store '%s/missing.db'", dir);
    cr_assert_eq(sw_test_cli(cmd, &out, &err), 2);
    cr_assert(strstr(err, "missing.db: no store there"), "%s", err);
    free(out), free(err);
    /* the default location comes from STOPWISE_STORE */
    snprintf(cmd, sizeof cmd, "STOPWISE_STORE='%s/env.db' %s runs ls", dir, STOPWISE_CLI);
    cr_assert_eq(sw_test_sh(cmd, &out, &err), 2);
    cr_assert(strstr(err, "env.db"), "%s", err);
    free(out), free(err);
    /* a newer schema */
    char path[8300];
    snprintf(path, sizeof path, "%s/new.db", dir);
    sw_store *s;
    cr_assert_eq(sw_store_open(path, &s, NULL), SW_OK);
    sw_store_close(s);
    sw_db *db;
    cr_assert_eq(sw_db_open(path, SW_DB_SQLITE, 0, 1000, &db, NULL), SW_OK);
    cr_assert_eq(sw_db_script(db, "INSERT INTO schema_version VALUES (7, 0)", NULL), SW_OK);
    sw_db_close(db);
    snprintf(cmd, sizeof cmd, "runs ls --json --store '%s'", path);
    cr_assert_eq(sw_test_cli(cmd, &out, &err), 2);
    cr_assert(strstr(err, "schema version 7, newer"), "%s", err);
    cr_assert_str_eq(out, "", "nothing on stdout on failure");
    free(out), free(err);
    /* PostgreSQL with a wrong password */
    cr_assert_eq(sw_test_cli("runs ls --store postgresql://stopwise:wrong@127.0.0.1:55432/stopwise_test", &out, &err),
                 2);
    cr_assert(strstr(err, "password authentication failed"), "%s", err);
    cr_assert_null(strstr(err, "wrong"), "password echoed: %s", err);
    free(out), free(err);
    cr_assert_eq(sw_test_cli("runs frobnicate", &out, &err), 2);
    free(out), free(err);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(runs, postgres_store, .fini = fx_teardown)
{
    fx_setup(1);
    fill(fx.location);
    snprintf(store, sizeof store, "--store '%s'", fx.location);
    char *out, *err;
    cr_assert_eq(runs("ls --json --task cmudict", &out, &err), 0, "%s", err);
    json_t *j = parse(out);
    cr_assert_eq(json_integer_value(json_object_get(j, "count")), 2);
    json_decref(j);
    free(out), free(err);
    cr_assert_eq(runs("show 1 --json", &out, &err), 0, "%s", err);
    j = parse(out);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "curve"), "best_tokens")), 4000);
    json_decref(j);
    free(out), free(err);
    cr_assert_eq(runs("rm 3", &out, &err), 0, "%s", err);
    free(out), free(err);
}

/* A server that cannot be reached is a runtime failure (exit 1: nothing is
 * wrong with the command; try again later), not bad input. A URL that cannot
 * be parsed, and a login the server refuses (wrong password, unknown user or
 * database), are configuration errors: exit 2. */
Test(runs, unreachable_server_exits_1_bad_urls_exit_2)
{
    char *out, *err;
    /* nothing listens on port 1 */
    cr_assert_eq(sw_test_cli("runs ls --store postgresql://stopwise:secret@127.0.0.1:1/stopwise_test", &out, &err), 1,
                 "%s", err);
    cr_assert(strstr(err, "cannot connect") && strstr(err, "127.0.0.1"), "%s", err);
    cr_assert_null(strstr(err, "secret"), "password echoed: %s", err);
    cr_assert_str_eq(out, "");
    free(out), free(err);
    /* a URL libpq cannot parse */
    cr_assert_eq(sw_test_cli("runs ls --store 'postgresql://stopwise@127.0.0.1:55432/x?nosuchoption=1'", &out, &err), 2,
                 "%s", err);
    free(out), free(err);
    cr_assert_eq(sw_test_cli("runs ls --store 'postgresql://stopwise@127.0.0.1:notaport/x'", &out, &err), 2, "%s", err);
    free(out), free(err);
    /* the server answers but refuses the login: configuration */
    cr_assert_eq(sw_test_cli("runs ls --store postgresql://stopwise:stopwise@127.0.0.1:55432/no_such_database", &out,
                             &err),
                 2, "%s", err);
    cr_assert(strstr(err, "no_such_database"), "%s", err);
    free(out), free(err);
}
