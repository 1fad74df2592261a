/* stopwise ui: the dashboard. Parses, starts the server (ui/), prints where
 * it listens and waits for Ctrl-C; the work is in ui/. */
#include "cli/commands.h"
#include "cli/options.h"
#include "ui/ui.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const sw_cli_option options[] = {
    {"store", SW_CLI_STRING, "PATH|URL", "$STOPWISE_STORE or ./stopwise.db",
     "the store to show: an SQLite file, or a postgresql:// URL; opened read-only"},
    {"port", SW_CLI_INT, "N", "8765", "the TCP port (0: any free port, printed at start-up)"},
    {"bind", SW_CLI_STRING, "ADDR", "127.0.0.1",
     "the address to listen on: loopback (127.0.0.1, ::1, localhost) serves this machine\n"
     "only; any other (0.0.0.0, ::, a LAN address) requires the access token printed\n"
     "at start-up on every request"},
};

static const sw_cli_command command = {
    .name = "ui",
    .synopsis = "serve a live dashboard of the store's runs, stops, tuned policies and studies",
    .usage = "stopwise ui [--store PATH|URL] [--port 8765] [--bind 127.0.0.1]",
    .details =
        "Open the printed URL in a browser. Pages: the runs table (sorted, filtered and\n"
        "paged by the server; arrow keys move, Enter opens, Space marks for comparison),\n"
        "a run's view (EM and loss against tokens with every evaluation, the best\n"
        "checkpoint, the stop and its reason, the cooldown, the forecast band as it stood\n"
        "at each evaluation; live while the run trains), a comparison of runs on tokens\n"
        "or wall time, the tuning of each task (the policy in force, cross-validation per\n"
        "family, the Pareto frontier of tokens against EM shortfall, online audits) and\n"
        "the studies (trials, curves, where each was pruned, parameter importance).\n"
        "\n"
        "It only reads: the store is opened read-only (SQLite: read-only file; PostgreSQL:\n"
        "a read-only session), so it runs beside live trainings. Everything it serves is\n"
        "in the binary: it works offline. JSON endpoints under /api/ (docs/UI.md).\n"
        "\n"
        "Security: on loopback, requests must name a loopback host. On any other address\n"
        "a random token is printed at start-up; requests without it are refused (401),\n"
        "with a wrong one too (403). Open the printed URL once (?token=...): the page then\n"
        "keeps it in a cookie; scripts send Authorization: Bearer TOKEN. No TLS: beyond a\n"
        "trusted network, put it behind a TLS proxy or use an SSH tunnel to loopback.\n"
        "Ctrl-C stops it. `stopwise report` writes the same views as one HTML file.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof *options),
    .min_positional = 0,
    .max_positional = 0,
};

int sw_cmd_ui(int argc, char **argv)
{
    sw_cli_args a;
    int code = sw_cli_parse(&command, argc, argv, &a);
    if (code >= 0) {
        sw_cli_args_free(&a);
        return code;
    }
    const char *store = sw_cli_given(&a, "store") ? sw_cli_str(&a, "store") : getenv("STOPWISE_STORE");
    if (!store || !*store) store = "./stopwise.db";
    long long port = sw_cli_int(&a, "port");
    if (port < 0 || port > 65535) {
        sw_cli_args_free(&a);
        return sw_cli_fail("ui", 2, "--port %lld: expected 1 to 65535 (0: any free port)", port);
    }
    sw_ui_options o = {store, sw_cli_str(&a, "bind"), (int)port};
    /* Ctrl-C and SIGTERM are taken by sigwait below: block them before the
     * server's thread starts, so that it inherits the mask */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    sw_ui_server *u = NULL;
    sw_error err = {0};
    sw_status st = sw_ui_server_start(&o, &u, &err);
    sw_cli_args_free(&a);
    if (st) return sw_cli_fail("ui", sw_status_exit_code(st), "%s", err.msg);
    if (!sw_ui_page_built())
        fprintf(stderr, "stopwise ui: this stopwise was built without its page (npm was not available when it was "
                        "built: run scripts/web.sh and rebuild); serving the JSON API under /api/ only\n");
    const char *token = sw_ui_server_token(u);
    printf("stopwise ui: serving %s (read-only) at %s\n", sw_ui_server_store(u), sw_ui_server_url(u));
    if (token) {
        /* a wildcard address is no place to browse to: name this machine */
        char where[400];
        const char *bind = o.bind ? o.bind : "";
        char host[256] = "";
        if ((!strcmp(bind, "0.0.0.0") || !strcmp(bind, "::")) && !gethostname(host, sizeof host - 1) && host[0])
            snprintf(where, sizeof where, "http://%s:%d/", host, sw_ui_server_port(u));
        else
            snprintf(where, sizeof where, "%s", sw_ui_server_url(u));
        printf("stopwise ui: listening beyond loopback: every request needs this token\n"
               "  token: %s\n  open:  %s?token=%s\n",
               token, where, token);
    }
    printf("stopwise ui: Ctrl-C stops it\n");
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    sw_ui_server_stop(u);
    fprintf(stderr, "stopwise ui: stopped\n");
    return 0;
}
