/* ui/: the dashboard's server over real sockets: its JSON answers, and its
 * security: beyond loopback a request without the token is refused, paths
 * outside the assets are refused, the store is opened read-only, and query
 * parameters reach SQL only as bound values. The store is a real one, filled
 * through the store's API; the runs tests run on SQLite and PostgreSQL. */
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "store/db.h"
#include "stopwise/search.h"
#include "store_fixture.h"
#include "ui/internal.h"

/* ---- a minimal HTTP client ------------------------------------------------------ */

typedef struct reply {
    int code;
    char *head, *body; /* malloc'd */
} reply;

static void reply_free(reply *r)
{
    free(r->head);
    memset(r, 0, sizeof *r);
}

/* Sends `target` exactly as written (no normalisation, unlike curl) with the
 * given Host and extra header lines, reads the whole answer. */
static reply get_raw(int port, const char *method, const char *target, const char *host, const char *headers)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "connect to port %d", port);
    char req[4096];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n", method, target, host,
                     headers ? headers : "");
    cr_assert_eq(send(fd, req, (size_t)n, 0), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) buf = realloc(buf, cap *= 2);
        ssize_t k = recv(fd, buf + len, cap - len - 1, 0);
        if (k <= 0) break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = 0;
    reply r = {0, buf, NULL};
    cr_assert(sscanf(buf, "HTTP/1.%*d %d", &r.code) == 1, "not an HTTP answer: %.200s", buf);
    char *sep = strstr(buf, "\r\n\r\n");
    cr_assert_not_null(sep);
    *sep = 0;
    r.body = sep + 4;
    return r;
}

static reply get(int port, const char *target) { return get_raw(port, "GET", target, "127.0.0.1", NULL); }

static json_t *get_json(int port, const char *target, int want)
{
    reply r = get(port, target);
    cr_assert_eq(r.code, want, "%s: %d %s", target, r.code, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    cr_assert_not_null(j, "%s: not JSON: %.200s", target, r.body);
    reply_free(&r);
    return j;
}

static sw_ui_server *serve(const char *store, const char *bind)
{
    sw_ui_options o = {store, bind, 0};
    sw_ui_server *u = NULL;
    sw_error err = {0};
    sw_status st = sw_ui_server_start(&o, &u, &err);
    cr_assert_eq(st, SW_OK, "start: %s", err.msg);
    cr_assert_gt(sw_ui_server_port(u), 0);
    return u;
}

/* ---- a store with three runs ------------------------------------------------------- */

static int64_t add_run(sw_store *s, const char *name, int n, double em0, sw_run_status status)
{
    sw_store_run_info info = {.name = name, .task = "copy", .config_json = "{\"budget\":10000}", .policy = "patience=2"};
    int64_t id;
    ST_OK(s, sw_store_run_begin(s, &info, &id));
    for (int i = 0; i < n; i++) {
        sw_store_metric m[] = {{"cooldown", 0}, {"forecast_lo", em0}, {"forecast_hi", em0 + 5}};
        sw_store_eval e = {(uint64_t)(i + 1) * 1000, i, 0.5 * i, em0 + i, 1.0 / (i + 1), 2.0 / (i + 1), m, 3};
        ST_OK(s, sw_store_log_eval(s, id, &e));
    }
    if (status == SW_RUN_RUNNING) {
        ST_OK(s, sw_store_flush(s));
        return id;
    }
    sw_store_run_result res = {status, status == SW_RUN_STOPPED ? "patience" : NULL, NULL, (uint64_t)n * 1000,
                               (uint64_t)n * 1000, em0 + n - 1, em0 + n - 1, NAN};
    ST_OK(s, sw_store_run_end(s, id, &res));
    return id;
}

static void fill(void)
{
    sw_store *s = fx_open(NULL);
    add_run(s, "first", 3, 10, SW_RUN_STOPPED);
    add_run(s, "</script><script>alert(1)</script>", 5, 20, SW_RUN_COMPLETED);
    add_run(s, "live one", 2, 5, SW_RUN_RUNNING);
    sw_store_close(s);
}

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_number(v), "%s is not a number", k);
    return (long long)json_number_value(v);
}

/* ---- what it answers ------------------------------------------------------------------ */

STORE_TEST(api_answers_runs_a_run_and_its_curve)
{
    fill();
    sw_ui_server *u = serve(fx.location, NULL);
    int port = sw_ui_server_port(u);
    cr_assert_null(sw_ui_server_token(u), "loopback needs no token");

    json_t *page = get_json(port, "/api/runs?sort=best_em&dir=desc&limit=2", 200);
    cr_assert_eq(num(page, "total"), 3);
    json_t *rows = json_object_get(page, "rows");
    cr_assert_eq(json_array_size(rows), 2, "the page has limit rows");
    json_t *top = json_array_get(rows, 0);
    cr_assert_eq(num(top, "best_em"), 24);
    cr_assert_eq(num(top, "saved"), 5000, "budget 10000 - 5000 tokens");
    json_decref(page);
    page = get_json(port, "/api/runs?sort=best_em&dir=desc&limit=2&offset=2", 200);
    cr_assert_eq(json_array_size(json_object_get(page, "rows")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(page, "rows"), 0), "status")),
                     "running");
    json_decref(page);
    page = get_json(port, "/api/runs?status=stopped", 200);
    cr_assert_eq(num(page, "total"), 1);
    json_decref(page);

    json_t *run = get_json(port, "/api/run?id=1", 200);
    json_t *r = json_object_get(run, "run");
    cr_assert_str_eq(json_string_value(json_object_get(r, "stop_rule")), "patience");
    cr_assert_eq(num(r, "stop_tokens"), 3000);
    cr_assert_eq(num(json_object_get(run, "config"), "budget"), 10000, "the config comes parsed");
    json_decref(run);

    json_t *c = get_json(port, "/api/curve?id=2", 200);
    cr_assert_eq(num(c, "n"), 5);
    cr_assert_eq(json_array_size(json_object_get(c, "tokens")), 5);
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(c, "tokens"), 4)), 5000);
    json_t *hi = json_object_get(json_object_get(c, "metrics"), "forecast_hi");
    cr_assert_eq(json_array_size(hi), 5, "a metric column per evaluation");
    cr_assert_float_eq(json_number_value(json_array_get(hi, 0)), 25, 1e-9);
    json_decref(c);

    json_decref(get_json(port, "/api/run?id=99", 404));
    json_decref(get_json(port, "/api/nothing", 404));
    json_t *info = get_json(port, "/api/info", 200);
    cr_assert(json_is_true(json_object_get(info, "read_only")));
    cr_assert_str_eq(json_string_value(json_object_get(info, "backend")), fx.pg ? "postgresql" : "sqlite");
    json_decref(info);
    sw_ui_server_stop(u);
}

/* ---- security ------------------------------------------------------------------------- */

Test(ui, beyond_loopback_requests_without_the_token_are_refused, .fini = fx_teardown)
{
    fx_setup(0);
    fill();
    sw_ui_server *u = serve(fx.location, "0.0.0.0"); /* every interface: reachable beyond this machine */
    int port = sw_ui_server_port(u);
    const char *token = sw_ui_server_token(u);
    cr_assert_not_null(token, "a non-loopback bind must make a token");
    cr_assert_eq(strlen(token), 64);
    cr_assert(strstr(sw_ui_server_url(u), "0.0.0.0"), "%s", sw_ui_server_url(u));

    static const char *const paths[] = {"/", "/index.html", "/app.js", "/api/runs", "/api/run?id=1", "/api/info"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        reply r = get(port, paths[i]);
        cr_assert_eq(r.code, 401, "%s without a token: %d", paths[i], r.code);
        cr_assert(!strstr(r.body, "first"), "%s leaked data without a token", paths[i]);
        cr_assert(strstr(r.head, "WWW-Authenticate: Bearer"), "%s", r.head);
        reply_free(&r);
    }
    /* a wrong token, in every place a token can come from */
    char wrong[65];
    memcpy(wrong, token, 65);
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    char hdr[256], target[256];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", wrong);
    reply r = get_raw(port, "GET", "/api/runs", "127.0.0.1", hdr);
    cr_assert_eq(r.code, 403, "%d", r.code);
    reply_free(&r);
    snprintf(hdr, sizeof hdr, "Cookie: sw_token=%s\r\n", wrong);
    r = get_raw(port, "GET", "/api/runs", "127.0.0.1", hdr);
    cr_assert_eq(r.code, 403);
    reply_free(&r);
    snprintf(target, sizeof target, "/api/runs?token=%.63s", token); /* a prefix is not the token */
    r = get(port, target);
    cr_assert_eq(r.code, 403);
    reply_free(&r);

    /* the right one, in each place */
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", token);
    r = get_raw(port, "GET", "/api/runs", "example.org", hdr); /* any Host: the token is what counts */
    cr_assert_eq(r.code, 200, "%d %s", r.code, r.body);
    cr_assert(strstr(r.body, "first"));
    reply_free(&r);
    snprintf(hdr, sizeof hdr, "Cookie: sw_token=%s\r\n", token);
    r = get_raw(port, "GET", "/api/info", "127.0.0.1", hdr);
    cr_assert_eq(r.code, 200);
    reply_free(&r);
    /* the printed URL: sets the cookie and drops the token from the address */
    snprintf(target, sizeof target, "/?token=%s", token);
    r = get(port, target);
    cr_assert_eq(r.code, 303, "%d", r.code);
    cr_assert(strstr(r.head, "Set-Cookie: sw_token="), "%s", r.head);
    cr_assert(strstr(r.head, "HttpOnly") && strstr(r.head, "SameSite=Strict"), "%s", r.head);
    const char *loc = strstr(r.head, "Location: /");
    cr_assert(loc && (loc[11] == '\r' || loc[11] == 0), "%s", r.head);
    reply_free(&r);
    sw_ui_server_stop(u);
}

Test(ui, loopback_answers_to_loopback_names_only, .fini = fx_teardown)
{
    fx_setup(0);
    fill();
    sw_ui_server *u = serve(fx.location, "127.0.0.1");
    int port = sw_ui_server_port(u);
    static const char *const good[] = {"127.0.0.1", "localhost", "LOCALHOST:8765", "127.0.0.1:1", "[::1]:8765", "[::1]"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        reply r = get_raw(port, "GET", "/api/info", good[i], NULL);
        cr_assert_eq(r.code, 200, "Host %s: %d", good[i], r.code);
        reply_free(&r);
    }
    /* a page elsewhere whose name was rebound to 127.0.0.1 (DNS rebinding) */
    static const char *const bad[] = {"evil.example", "evil.example:8765", "127.0.0.1.evil.example", "localhost.evil",
                                      "[::1]x", "127.0.0.1:80a", "::1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        reply r = get_raw(port, "GET", "/api/runs", bad[i], NULL);
        cr_assert_eq(r.code, 403, "Host %s: %d", bad[i], r.code);
        cr_assert(!strstr(r.body, "first"));
        reply_free(&r);
    }
    /* it only reads */
    reply r = get_raw(port, "POST", "/api/runs", "127.0.0.1", "Content-Length: 0\r\n");
    cr_assert_eq(r.code, 405);
    cr_assert(strstr(r.head, "Allow: GET, HEAD"), "%s", r.head);
    reply_free(&r);
    r = get_raw(port, "DELETE", "/api/run?id=1", "127.0.0.1", NULL);
    cr_assert_eq(r.code, 405);
    reply_free(&r);
    sw_ui_server_stop(u);
}

Test(ui, paths_outside_the_assets_are_refused, .fini = fx_teardown)
{
    fx_setup(0);
    fill();
    sw_ui_server *u = serve(fx.location, NULL);
    int port = sw_ui_server_port(u);
    /* sent byte for byte as written: the server sees the raw traversal */
    static const char *const climb[] = {
        "/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
        "/app.js/../../../../etc/passwd", "//etc/passwd", "/..\\..\\etc\\passwd", "/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
        "/index.html%00.js", "/./app.js", "/.%2e/.%2e/etc/passwd", "/etc/passwd", "/CMakeLists.txt",
        "/store.db", "/api/../../etc/passwd"};
    for (size_t i = 0; i < sizeof climb / sizeof *climb; i++) {
        reply r = get(port, climb[i]);
        cr_assert(r.code == 400 || r.code == 404, "%s: %d", climb[i], r.code);
        cr_assert(!strstr(r.body, "root:"), "%s served /etc/passwd", climb[i]);
        cr_assert(!strstr(r.body, "SQLite format"), "%s served the store file", climb[i]);
        reply_free(&r);
    }
    /* the assets themselves are served, with their types and the headers that
     * keep the page to its own scripts */
    static const char *const ok[][2] = {{"/", "text/html"}, {"/app.js", "text/javascript"},
                                        {"/uplot.js", "text/javascript"}, {"/app.css", "text/css"},
                                        {"/licenses.txt", "text/plain"}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        reply r = get(port, ok[i][0]);
        if (!sw_ui_page_built()) {
            cr_assert_eq(r.code, i ? 404 : 503, "%s without a page: %d", ok[i][0], r.code);
        } else {
            cr_assert_eq(r.code, 200, "%s: %d", ok[i][0], r.code);
            cr_assert(strstr(r.head, ok[i][1]), "%s", r.head);
        }
        cr_assert(strstr(r.head, "Content-Security-Policy: default-src 'none'; script-src 'self'"), "%s", r.head);
        cr_assert(strstr(r.head, "X-Content-Type-Options: nosniff"), "%s", r.head);
        reply_free(&r);
    }
    cr_assert_not(sw_ui_path_is_safe("/a/../b"));
    cr_assert_not(sw_ui_path_is_safe("/.."));
    cr_assert_not(sw_ui_path_is_safe("/a%2fb"));
    cr_assert(sw_ui_path_is_safe("/app.js"));
    sw_ui_server_stop(u);
}

/* The ui never migrates (a writer would): a store one version behind is
 * refused with the read-only message and left at its version. */
STORE_TEST(ui_opens_the_store_read_only)
{
    fill();
    sw_db *db;
    sw_error err = {0};
    cr_assert_eq(sw_db_open(fx.location, fx.pg ? SW_DB_POSTGRES : SW_DB_SQLITE, 0, 1000, &db, &err), SW_OK, "%s",
                 err.msg);
    sw_db_val v = sw_db_int(SW_STORE_SCHEMA_VERSION);
    cr_assert_eq(sw_db_exec(db, "DELETE FROM schema_version WHERE version = ?", &v, 1, NULL, &err), SW_OK, "%s",
                 err.msg);
    sw_ui_options o = {fx.location, NULL, 0};
    sw_ui_server *u = NULL;
    sw_status st = sw_ui_server_start(&o, &u, &err);
    cr_assert_eq(st, SW_ERR_VERSION, "%s", err.msg);
    cr_assert(strstr(err.msg, "read-only"), "%s", err.msg);
    cr_assert_null(u);
    sw_db_result r;
    cr_assert_eq(sw_db_exec(db, "SELECT MAX(version) FROM schema_version", NULL, 0, &r, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_db_get_int(&r, 0, 0), SW_STORE_SCHEMA_VERSION - 1);
    sw_db_result_free(&r);
    /* the same store, migrated back, serves: reading works read-only */
    cr_assert_eq(sw_db_exec(db, "INSERT INTO schema_version (version, applied) VALUES (?, 0)", &v, 1, NULL, &err),
                 SW_OK, "%s", err.msg);
    sw_db_close(db);
    u = serve(fx.location, NULL);
    json_t *page = get_json(sw_ui_server_port(u), "/api/runs", 200);
    cr_assert_eq(num(page, "total"), 3);
    json_decref(page);
    sw_ui_server_stop(u);
}

/* Query parameters reach SQL as bound values: hostile text finds nothing and
 * harms nothing; a sort key outside the fixed set is refused. */
STORE_TEST(query_parameters_are_bound_never_concatenated)
{
    fill();
    sw_ui_server *u = serve(fx.location, NULL);
    int port = sw_ui_server_port(u);
    static const char *const hostile[] = {
        "/api/runs?q=%27%20OR%20%271%27%3D%271",             /* ' OR '1'='1 */
        "/api/runs?q=%27%3B%20DROP%20TABLE%20runs%3B%20--",  /* '; DROP TABLE runs; -- */
        "/api/runs?task=copy%27%20OR%20%271%27%3D%271",
        "/api/runs?q=%25%27%20--",                           /* %' -- */
    };
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        json_t *p = get_json(port, hostile[i], 200);
        cr_assert_eq(num(p, "total"), 0, "%s matched rows", hostile[i]);
        json_decref(p);
    }
    static const char *const refused[] = {
        "/api/runs?sort=started%3B%20DROP%20TABLE%20runs", "/api/runs?sort=r.id", "/api/runs?dir=desc%2C%20id",
        "/api/runs?limit=1%20OR%201%3D1", "/api/runs?offset=-1", "/api/runs?status=running%27--",
        "/api/run?id=1%20OR%201%3D1", "/api/runs?limit=100000"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        json_t *p = get_json(port, refused[i], 400);
        cr_assert(json_is_string(json_object_get(p, "error")), "%s", refused[i]);
        json_decref(p);
    }
    /* the runs are all still there, and the odd name is text like any other */
    json_t *p = get_json(port, "/api/runs", 200);
    cr_assert_eq(num(p, "total"), 3);
    json_decref(p);
    p = get_json(port, "/api/runs?q=%3C%2Fscript%3E", 200);
    cr_assert_eq(num(p, "total"), 1);
    json_decref(p);
    /* and '<' never leaves the server raw inside JSON */
    reply r = get(port, "/api/runs");
    cr_assert(!strchr(r.body, '<'), "%.300s", r.body);
    cr_assert(strstr(r.body, "\\u003c/script>"), "%.300s", r.body);
    reply_free(&r);
    sw_ui_server_stop(u);
}

Test(ui, addresses_and_tokens)
{
    cr_assert(sw_ui_address_is_loopback("127.0.0.1"));
    cr_assert(sw_ui_address_is_loopback("127.8.9.10"));
    cr_assert(sw_ui_address_is_loopback("::1"));
    cr_assert(sw_ui_address_is_loopback("::ffff:127.0.0.1"));
    cr_assert_not(sw_ui_address_is_loopback("0.0.0.0"));
    cr_assert_not(sw_ui_address_is_loopback("::"));
    cr_assert_not(sw_ui_address_is_loopback("10.0.0.1"));
    cr_assert_not(sw_ui_address_is_loopback("128.0.0.1"));
    cr_assert_not(sw_ui_address_is_loopback("localhost"), "a name, not an address");
    char a[65], b[65];
    sw_error err;
    cr_assert_eq(sw_ui_token_make(a, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(sw_ui_token_make(b, &err), SW_OK, "%s", err.msg);
    cr_assert_str_neq(a, b, "two tokens alike");
    cr_assert_eq(strspn(a, "0123456789abcdef"), 64);
    cr_assert(sw_ui_token_equal(a, a));
    cr_assert_not(sw_ui_token_equal(b, a));
    cr_assert_not(sw_ui_token_equal("", a));
    cr_assert_not(sw_ui_token_equal(NULL, a));
    char longer[80];
    snprintf(longer, sizeof longer, "%sx", a);
    cr_assert_not(sw_ui_token_equal(longer, a));
    /* a bad bind or port is refused before anything opens */
    sw_ui_options o = {"/nonexistent/store.db", "not-an-address", 0};
    sw_ui_server *u = NULL;
    cr_assert_eq(sw_ui_server_start(&o, &u, &err), SW_ERR_INVALID);
    cr_assert(strstr(err.msg, "--bind"), "%s", err.msg);
    o.bind = NULL;
    o.port = 70000;
    cr_assert_eq(sw_ui_server_start(&o, &u, &err), SW_ERR_INVALID);
    o.port = 0;
    cr_assert_eq(sw_ui_server_start(&o, &u, &err), SW_ERR_NOT_FOUND, "%s", err.msg);
}

/* A study: its trials with their rows, parameters and curves; a pruned
 * trial's curve ends where it was pruned. */
Test(ui, studies_and_their_trials, .fini = fx_teardown)
{
    fx_setup(0);
    sw_store *s = fx_open(NULL);
    int64_t study;
    ST_OK(s, sw_store_study_create(s, "lr-search", "maximize", &study));
    int64_t a = add_run(s, "trial a", 4, 10, SW_RUN_COMPLETED);
    int64_t b = add_run(s, "trial b", 2, 5, SW_RUN_PRUNED);
    ST_OK(s, sw_store_trial_add(s, study, a, NULL));
    ST_OK(s, sw_store_trial_add(s, study, b, NULL));
    ST_OK(s, sw_store_param_set(s, a, "lr", "0.001"));
    ST_OK(s, sw_store_param_set(s, b, "lr", "0.1"));
    sw_store_close(s);
    sw_ui_server *u = serve(fx.location, NULL);
    int port = sw_ui_server_port(u);
    json_t *list = get_json(port, "/api/studies", 200);
    json_t *st = json_array_get(json_object_get(list, "studies"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(st, "name")), "lr-search");
    cr_assert_eq(num(st, "n_trials"), 2);
    json_decref(list);
    json_t *one = get_json(port, "/api/study?name=lr-search", 200);
    json_t *trials = json_object_get(one, "trials");
    cr_assert_eq(json_array_size(trials), 2);
    json_t *t1 = json_array_get(trials, 1);
    cr_assert_eq(num(t1, "number"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(t1, "run"), "status")), "pruned");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(t1, "params"), "lr")), "0.1");
    cr_assert_eq(json_array_size(json_object_get(t1, "tokens")), 2, "its curve ends where it was pruned");
    cr_assert_null(json_object_get(one, "importance"), "no search: the page computes it from the runs' params");
    json_decref(one);
    json_decref(get_json(port, "/api/study?name=nope", 404));
    json_decref(get_json(port, "/api/study", 400));
    sw_ui_server_stop(u);
}

/* Trial k: lr rises with k, layers alternates 1, 2, 1, ... */
static sw_status propose_lr(int64_t number, const sw_store_search_trial *trials, size_t n, char **params, char **point,
                            int64_t *bracket, void *user_data)
{
    (void)trials, (void)n, (void)user_data;
    char text[96];
    double u = (number + 0.5) / 6;
    snprintf(text, sizeof text, "{\"lr\": %g, \"layers\": %d}", 1e-4 * pow(1e3, u), (int)(number % 2) + 1);
    *params = strdup(text);
    snprintf(text, sizeof text, "[%g, %g]", u, number % 2 ? 0.75 : 0.25);
    *point = strdup(text);
    *bracket = 0;
    return SW_OK;
}

/* A search study's trials carry the search's dimensions (search_trials'
 * params, through the run's "trial" tag), not the run's composed options,
 * and its importance is the search report's: here EM follows lr alone. */
Test(ui, search_study_trials_carry_the_search_dimensions, .fini = fx_teardown)
{
    fx_setup(0);
    sw_store *s = fx_open(NULL);
    sw_search_settings set = {.budget = 1000, .seed = 1, .max_tries = 1};
    sw_error err;
    cr_assert_eq(sw_sampler_parse("random", &set.sampler, &err), SW_OK);
    cr_assert_eq(sw_pruner_parse("none", &set.pruner, &err), SW_OK);
    char *settings = sw_search_settings_json(&set);
    int64_t study;
    ST_OK(s, sw_store_search_open(s, "lr-space", "lr = range(0.0001, 0.1, log)\nlayers = int(1, 2)\n", settings, &study,
                                  NULL, NULL));
    free(settings);
    sw_store_search_claim_options o = {.worker = "w", .stale_after_s = 60, .max_tries = 1, .propose = propose_lr};
    for (int i = 0; i < 6; i++) {
        sw_store_claim out;
        sw_store_search_trial t;
        ST_OK(s, sw_store_search_claim(s, study, &o, &out, &t));
        char name[32], num[8];
        snprintf(name, sizeof name, "trial %d", i);
        int64_t run = add_run(s, name, 3, 10, SW_RUN_COMPLETED);
        ST_OK(s, sw_store_param_set(s, run, "schedule", i ? "cosine:lr=0.01" : "cosine:lr=0.001"));
        ST_OK(s, sw_store_search_set_run(s, study, t.number, "w", t.tries, run));
        snprintf(num, sizeof num, "%d", i);
        ST_OK(s, sw_store_tag_set(s, run, "trial", num));
        sw_store_search_end end = {.state = SW_STORE_TRIAL_COMPLETED, .value = 50 + 5 * i, .val_em = 50 + 5 * i,
                                   .test_em = NAN, .tokens = 1000, .spent_delta = 1000};
        ST_OK(s, sw_store_search_finish(s, study, t.number, "w", t.tries, &end));
        sw_store_search_trial_clear(&t);
    }
    /* a run of the study from outside the search keeps its own options */
    int64_t other = add_run(s, "added by hand", 3, 10, SW_RUN_COMPLETED);
    ST_OK(s, sw_store_param_set(s, other, "lr", "0.5"));
    ST_OK(s, sw_store_trial_add(s, study, other, NULL));
    sw_store_close(s);
    sw_ui_server *u = serve(fx.location, NULL);
    json_t *one = get_json(sw_ui_server_port(u), "/api/study?name=lr-space", 200);
    json_t *trials = json_object_get(one, "trials");
    cr_assert_eq(json_array_size(trials), 7);
    json_t *p1 = json_object_get(json_array_get(trials, 1), "params");
    cr_assert(json_equal(json_object_get(json_array_get(trials, 1), "search"), json_true()));
    cr_assert_float_eq(json_real_value(json_object_get(p1, "lr")), 1e-4 * pow(1e3, 1.5 / 6), 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(p1, "layers")), 2);
    cr_assert_null(json_object_get(p1, "schedule"), "the composed options are not the trial's parameters");
    json_t *p6 = json_object_get(json_array_get(trials, 6), "params");
    cr_assert(json_equal(json_object_get(json_array_get(trials, 6), "search"), json_false()));
    cr_assert_str_eq(json_string_value(json_object_get(p6, "lr")), "0.5");
    json_t *imp = json_object_get(one, "importance");
    cr_assert_eq(json_array_size(imp), 2, "one share per dimension");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(imp, 0), "name")), "lr");
    double lr = json_number_value(json_object_get(json_array_get(imp, 0), "share"));
    double layers = json_number_value(json_object_get(json_array_get(imp, 1), "share"));
    cr_assert(lr > 0.9 && layers < 0.1, "EM follows lr only: lr %g, layers %g", lr, layers);
    json_decref(one);
    sw_ui_server_stop(u);
}
