/* The search's runner: each segment of a trial is one `stopwise train`
 * child process, with the trial's options exactly as a user would type them.
 *
 * Why a child process and not sw_train in this process: a trial then is a
 * train invocation by construction (every train option, its defaults and its
 * checks, the ones added later too); a trial that crashes or exhausts memory
 * takes only itself down; and the worker stays free to heartbeat while the
 * trial trains. A trial pauses at a decision point with train's own
 * --stop-after (a resumable checkpoint) and goes on with --resume, which
 * continues bit for bit as if never paused (ARCHITECTURE.md, "Determinism and
 * resume"). */
#include "cli/search.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stopwise/stop.h"

int sw_cli_search_flag_value(const char *v)
{
    static const char *const on[] = {"1", "true", "yes", "on"}, *const off[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcmp(v, on[i])) return 1;
        if (!strcmp(v, off[i])) return 0;
    }
    return -1;
}

static const sw_cli_option *train_option(const char *name)
{
    const sw_cli_command *c = sw_cmd_train_command();
    for (int i = 0; i < c->n_options; i++)
        if (!strcmp(c->options[i].name, name)) return &c->options[i];
    return NULL;
}

void sw_cli_search_argv_free(char **argv)
{
    if (!argv) return;
    for (char **a = argv; *a; a++) free(*a);
    free(argv);
}

typedef struct args {
    char **v;
    int n, cap, oom;
} args;

static void add(args *a, const char *s)
{
    if (a->oom) return;
    if (a->n + 2 > a->cap) {
        int cap = a->cap ? 2 * a->cap : 64;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v) {
            a->oom = 1;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    if (!(a->v[a->n] = strdup(s))) {
        a->oom = 1;
        return;
    }
    a->v[++a->n] = NULL;
}

static void add_opt(args *a, const char *name, const char *value)
{
    char flag[160];
    snprintf(flag, sizeof flag, "--%s", name);
    add(a, flag);
    if (value) add(a, value);
}

static int has(const sw_space_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_options; i++)
        if (!strcmp(c->names[i], name)) return 1;
    return 0;
}

char **sw_cli_search_argv(const sw_search_segment *seg, const char *dir, int threads, int *argc)
{
    args a = {0};
    add(&a, "stopwise");
    add(&a, "train");
    const sw_space_config *c = seg->config;
    for (size_t i = 0; i < c->n_options; i++) {
        const sw_cli_option *o = train_option(c->names[i]);
        if (o && o->kind == SW_CLI_FLAG) {
            if (sw_cli_search_flag_value(c->values[i]) == 1) add_opt(&a, c->names[i], NULL);
        } else {
            add_opt(&a, c->names[i], c->values[i]);
        }
    }
    char num[32], name[600];
    add_opt(&a, "budget", sw_format_tokens_exact(seg->budget, 0, num, sizeof num));
    snprintf(num, sizeof num, "%llu", (unsigned long long)seg->seed);
    add_opt(&a, "seed", num);
    snprintf(num, sizeof num, "%d", threads);
    add_opt(&a, "threads", num);
    /* the cadence lands an evaluation on every decision point; a fixed
     * evaluation sample (not sized from measured speed) and a whole final
     * report keep a trial's numbers the same on every machine */
    if (seg->eval_every && !has(c, "eval-every"))
        add_opt(&a, "eval-every", sw_format_tokens_exact(seg->eval_every, 0, num, sizeof num));
    if (!has(c, "eval-limit")) add_opt(&a, "eval-limit", "1000");
    if (!has(c, "final-limit")) add_opt(&a, "final-limit", "all");
    if (seg->stop && !has(c, "stop")) add_opt(&a, "stop", seg->stop);
    if (dir) add_opt(&a, "out", dir);
    if (seg->label) snprintf(name, sizeof name, "%s#%lld %s", seg->study ? seg->study : "search", (long long)seg->number, seg->label);
    else snprintf(name, sizeof name, "%s#%lld", seg->study ? seg->study : "search", (long long)seg->number);
    add_opt(&a, "name", name);
    if (seg->stop_after) add_opt(&a, "stop-after", sw_format_tokens_exact(seg->stop_after, 0, num, sizeof num));
    if (seg->resume) add_opt(&a, "resume", NULL);
    add_opt(&a, "json", NULL);
    add_opt(&a, "quiet", NULL);
    if (a.oom) {
        if (a.v) a.v[a.n] = NULL;
        sw_cli_search_argv_free(a.v);
        return NULL;
    }
    *argc = a.n;
    return a.v;
}

/* ---- the child ---------------------------------------------------------------------- */

static void nap(double seconds)
{
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
}

/* The last non-empty line of a file (its error), in buf. */
static void last_line(const char *path, char *buf, size_t cap)
{
    buf[0] = 0;
    char *text;
    size_t len;
    if (sw_file_read(path, &text, &len, NULL)) return;
    while (len && (text[len - 1] == '\n' || text[len - 1] == ' ')) text[--len] = 0;
    char *nl = strrchr(text, '\n');
    snprintf(buf, cap, "%s", nl ? nl + 1 : text);
    free(text);
}

static double json_em(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Reads train's --json result into out. */
static sw_status read_result(const char *path, sw_search_segment_result *out, sw_error *err)
{
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return sw_error_set(err, SW_ERR_IO, "%s: train printed no JSON result (%s)", path, je.text);
    }
    const char *status = json_string_value(json_object_get(o, "status"));
    snprintf(out->status, sizeof out->status, "%s", status ? status : "failed");
    json_t *id = json_object_get(o, "run_id");
    out->run_id = json_is_integer(id) ? (int64_t)json_integer_value(id) : -1;
    json_t *tok = json_object_get(o, "tokens");
    out->tokens = json_is_integer(tok) ? (uint64_t)json_integer_value(tok) : 0;
    out->best_val_em = json_em(o, "best_val_em");
    out->val_em = json_em(o, "val_em");
    out->test_em = json_em(o, "test_em");
    const char *reason = json_string_value(json_object_get(o, "stop_reason"));
    snprintf(out->reason, sizeof out->reason, "%s", reason ? reason : "");
    json_decref(o);
    return SW_OK;
}

/* tokens and val_em of every evaluation in curve.csv (none if absent). */
static sw_status read_curve(const char *path, sw_search_segment_result *out, sw_error *err)
{
    if (access(path, F_OK)) return SW_OK;
    sw_curve *c;
    sw_status st = sw_curve_read_csv(path, &c, err);
    if (st) return st;
    size_t n = sw_curve_len(c);
    const double *em = sw_curve_column(c, "val_em", NULL);
    out->curve_tokens = malloc((n ? n : 1) * sizeof *out->curve_tokens);
    out->curve_em = malloc((n ? n : 1) * sizeof *out->curve_em);
    if (!out->curve_tokens || !out->curve_em) {
        sw_curve_free(c);
        return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        out->curve_tokens[i] = sw_curve_tokens(c)[i];
        out->curve_em[i] = em ? em[i] : NAN;
    }
    out->curve_n = n;
    sw_curve_free(c);
    return SW_OK;
}

/* A fresh folder for a try that starts from scratch: what an earlier run
 * left there must not be resumed or appended to. */
static void clear_run_files(const char *dir)
{
    static const char *const files[] = {"best.safetensors", "last.safetensors", "curve.csv", "events.jsonl",
                                        "result.json", "train.log"};
    char path[4400];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
}

sw_status sw_cli_search_run(void *user, const sw_search_segment *seg, sw_search_beat_fn beat, void *beat_ctx,
                            sw_search_segment_result *out, sw_error *err)
{
    const sw_cli_search_runner *rn = user;
    char dir[4200], label[64], res_path[4400], log_path[4400], curve_path[4400];
    if (seg->label) snprintf(label, sizeof label, "%s", seg->label);
    else if (seg->attempt > 1) snprintf(label, sizeof label, "trial-%lld.%lld", (long long)seg->number, (long long)seg->attempt);
    else snprintf(label, sizeof label, "trial-%lld", (long long)seg->number);
    snprintf(dir, sizeof dir, "%s/%s", rn->root, label);
    sw_status st = sw_make_dirs(dir, err);
    if (st) return st;
    if (!seg->resume) clear_run_files(dir);
    snprintf(res_path, sizeof res_path, "%s/result.json", dir);
    snprintf(log_path, sizeof log_path, "%s/train.log", dir);
    snprintf(curve_path, sizeof curve_path, "%s/curve.csv", dir);
    int argc;
    char **argv = sw_cli_search_argv(seg, dir, rn->threads, &argc);
    if (!argv) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    int res_fd = open(res_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (res_fd < 0 || log_fd < 0) {
        st = sw_error_set(err, SW_ERR_IO, "%s: %s", res_fd < 0 ? res_path : log_path, strerror(errno));
        if (res_fd >= 0) close(res_fd);
        if (log_fd >= 0) close(log_fd);
        sw_cli_search_argv_free(argv);
        return st;
    }
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        /* the trial must not outlive its worker: a killed worker's trial is
         * re-queued, and two copies of it must never train at once */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        if (rn->store) setenv("STOPWISE_STORE", rn->store, 1);
        dup2(res_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        execv("/proc/self/exe", argv);
        dprintf(STDERR_FILENO, "stopwise search: cannot run %s: %s\n", "/proc/self/exe", strerror(errno));
        _exit(127);
    }
    close(res_fd);
    close(log_fd);
    sw_cli_search_argv_free(argv);
    if (pid < 0) return sw_error_set(err, SW_ERR_IO, "cannot start a trial: fork: %s", strerror(errno));
    int status = 0;
    double wait_s = 0.005;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) return sw_error_set(err, SW_ERR_IO, "waitpid: %s", strerror(errno));
        if (beat && beat(beat_ctx)) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return sw_error_set(err, SW_ERR_STATE, "trial %lld was taken over by another worker", (long long)seg->number);
        }
        nap(wait_s);
        if (wait_s < 0.1) wait_s *= 2;
    }
    out->run_id = -1;
    out->best_val_em = out->val_em = out->test_em = NAN;
    char why[sizeof out->reason];
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
        last_line(log_path, why, sizeof why);
        return sw_error_set(err, SW_ERR_INVALID, "train refused trial %lld's options (%s): %s", (long long)seg->number,
                            log_path, why);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status)) snprintf(why, sizeof why, "train was killed by signal %d", WTERMSIG(status));
        else last_line(log_path, why, sizeof why);
        snprintf(out->status, sizeof out->status, "failed");
        snprintf(out->reason, sizeof out->reason, "%s", why[0] ? why : "train failed");
        st = read_curve(curve_path, out, err);
        if (!st && out->curve_n) out->tokens = out->curve_tokens[out->curve_n - 1];
        return st;
    }
    if ((st = read_result(res_path, out, err))) return st;
    return read_curve(curve_path, out, err);
}
