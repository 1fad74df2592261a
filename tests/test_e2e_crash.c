/* A real training run killed with SIGKILL while it logs to the store (issue
 * 5): the store opens cleanly, shows the run as crashed, keeps what was
 * committed, and the run can be resumed to the end, or removed. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

static json_t *run_json(const char *db, int id, const char *env)
{
    char args[8400], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "runs show %d --store %s --json", id, db);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "%s %s %s", env, STOPWISE_CLI, args);
    int rc = sw_test_sh(cmd, &out, &err);
    cr_assert_eq(rc, 0, "runs show failed: %s", err);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j, "not JSON: %s", out);
    free(out);
    free(err);
    return j;
}

static long long evaluations(json_t *j)
{
    json_t *run = json_object_get(j, "run");
    json_t *v = json_object_get(run ? run : j, "evaluations");
    cr_assert(json_is_integer(v), "no evaluations count in runs show --json");
    return json_integer_value(v);
}

static const char *status(json_t *j)
{
    json_t *run = json_object_get(j, "run");
    const char *s = json_string_value(json_object_get(run ? run : j, "status"));
    cr_assert_not_null(s);
    return s;
}

Test(e2e_crash, sigkill_mid_run_then_resume, .timeout = 300)
{
    char dir[4096], db[4200], cmd[16384];
    snprintf(dir, sizeof dir, "%s", sw_test_tmpdir());
    snprintf(db, sizeof db, "%s/runs.db", dir);
    const char *train = "train --data synthetic:copy:n=2000,len=5 --model gpt:layers=1,d=32,heads=2 --budget 400k "
                        "--eval-every 2k --stop none --threads 1 --quiet --json";
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        snprintf(cmd, sizeof cmd, "exec %s %s --store %s --out %s/run >/dev/null 2>&1", STOPWISE_CLI, train, db, dir);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    /* wait until some evaluations are committed, then kill it hard */
    long long before = 0;
    for (int i = 0; i < 600 && before < 20; i++) {
        usleep(100 * 1000);
        if (access(db, F_OK) != 0) continue;
        char *out = NULL;
        snprintf(cmd, sizeof cmd, "%s runs show 1 --store %s --json", STOPWISE_CLI, db);
        if (sw_test_sh(cmd, &out, NULL) == 0) {
            json_t *j = json_loads(out, 0, NULL);
            if (j) before = evaluations(j);
            json_decref(j);
        }
        free(out);
    }
    cr_assert_geq(before, 20, "the run never logged 20 evaluations");
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFSIGNALED(st), "the trainer finished before it was killed; make its budget larger");

    /* the store opens cleanly; the run reads crashed once its heartbeat is stale */
    json_t *j = run_json(db, 1, "STOPWISE_STALE_AFTER=0");
    cr_assert_str_eq(status(j), "crashed");
    cr_assert_geq(evaluations(j), before, "evaluations committed before the kill were lost");
    json_decref(j);

    /* resume: the same run id continues to the end of its budget */
    char *out = NULL, *err = NULL;
    snprintf(cmd, sizeof cmd, "%s --store %s --out %s/run --resume", train, db, dir);
    cr_assert_eq(sw_test_cli(cmd, &out, &err), 0, "resume failed: %s", err);
    json_t *res = json_loads(out, 0, NULL);
    cr_assert_not_null(res);
    cr_assert_eq(json_integer_value(json_object_get(res, "run_id")), 1, "resume must continue run 1");
    cr_assert_geq(json_integer_value(json_object_get(res, "tokens")), 400000);
    json_decref(res);
    j = run_json(db, 1, "");
    cr_assert_str_eq(status(j), "completed");
    cr_assert_geq(evaluations(j), 190, "a resumed run keeps one curve (about 200 evaluations)");
    cr_assert_leq(evaluations(j), 210, "evaluations past the checkpoint must not be doubled");
    json_decref(j);

    /* and it can be removed */
    snprintf(cmd, sizeof cmd, "runs rm 1 --store %s", db);
    cr_assert_eq(sw_test_cli(cmd, NULL, NULL), 0);
    snprintf(cmd, sizeof cmd, "runs show 1 --store %s", db);
    cr_assert_eq(sw_test_cli(cmd, NULL, NULL), 2);
    free(out);
    free(err);
}
