/* The dashboard's HTTP server (libmicrohttpd): who may ask (auth.c), which
 * paths exist (the embedded assets and the JSON endpoints), and the headers
 * every answer carries. One internal thread serves every connection in turn,
 * so the one read-only store handle is never used by two threads at once. */
#include "ui/internal.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sw_ui_server {
    struct MHD_Daemon *daemon;
    sw_store *store;
    int loopback;     /* bound to loopback: no token, loopback Host names only */
    char token[65];   /* "" on loopback                                     */
    char url[128];
    int port;
    char log[512];    /* libmicrohttpd's last complaint, for the start error */
};

static const struct {
    const char *path;
    sw_ui_api_fn fn;
} routes[] = {
    {"/api/info", sw_ui_api_info},     {"/api/runs", sw_ui_api_runs},     {"/api/run", sw_ui_api_run},
    {"/api/curve", sw_ui_api_curve},   {"/api/tuning", sw_ui_api_tuning}, {"/api/task", sw_ui_api_task},
    {"/api/studies", sw_ui_api_studies}, {"/api/study", sw_ui_api_study},
};

sw_ui_api_fn sw_ui_api_find(const char *path)
{
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (!strcmp(routes[i].path, path)) return routes[i].fn;
    return NULL;
}

/* The page runs only its own files (script-src 'self': no inline script, no
 * eval) and talks only to this server; nothing may frame it; the token in a
 * first URL never leaks through a Referer. */
static const char *const security_headers[][2] = {
    {"Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code, const char *type, const void *data, size_t len,
                               int owned, const char *const extra[][2], size_t n_extra)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned) free((void *)data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    for (size_t i = 0; i < sizeof security_headers / sizeof *security_headers; i++)
        MHD_add_response_header(r, security_headers[i][0], security_headers[i][1]);
    for (size_t i = 0; i < n_extra; i++) MHD_add_response_header(r, extra[i][0], extra[i][1]);
    enum MHD_Result ok = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ok;
}

/* {"error": message} with the status code. */
static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned code, const char *const extra[][2],
                                     size_t n_extra, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(msg));
    char *text = sw_ui_json_text(o);
    json_decref(o);
    if (!text) return MHD_NO;
    return respond(c, code, "application/json; charset=utf-8", text, strlen(text), 1, extra, n_extra);
}

static const char *mhd_param(const sw_ui_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->ctx, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result serve_api(sw_ui_server *u, struct MHD_Connection *c, sw_ui_api_fn fn)
{
    static const char *const no_store[][2] = {{"Cache-Control", "no-store"}};
    sw_ui_request rq = {mhd_param, c};
    json_t *o = NULL;
    sw_error err = {0};
    sw_status st = fn(u->store, &rq, &o, &err);
    if (st) {
        unsigned code = st == SW_ERR_INVALID ? MHD_HTTP_BAD_REQUEST
                      : st == SW_ERR_NOT_FOUND ? MHD_HTTP_NOT_FOUND
                                               : MHD_HTTP_INTERNAL_SERVER_ERROR;
        return respond_error(c, code, no_store, 1, "%s", err.msg);
    }
    char *text = sw_ui_json_text(o);
    json_decref(o);
    if (!text) return respond_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, no_store, 1, "out of memory");
    return respond(c, MHD_HTTP_OK, "application/json; charset=utf-8", text, strlen(text), 1, no_store, 1);
}

static const char not_built[] =
    "<!doctype html><meta charset=utf-8><title>stopwise ui: no page</title>"
    "<h1>This stopwise was built without its dashboard page</h1>"
    "<p>npm was not available when it was built, so the page (web/) could not be fetched and embedded. "
    "Run <code>scripts/web.sh</code> (it runs <code>npm ci</code> in web/), then rebuild. "
    "The JSON API answers all the same under <code>/api/</code> (docs/UI.md).</p>\n";

static enum MHD_Result serve_asset(struct MHD_Connection *c, const char *url)
{
    static const char *const revalidate[][2] = {{"Cache-Control", "no-cache"}};
    if (!strcmp(url, "/")) url = "/index.html";
    if (!strcmp(url, "/index.html") && !sw_ui_page_built())
        return respond(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/html; charset=utf-8", not_built, sizeof not_built - 1, 0,
                       NULL, 0);
    /* Only the embedded files exist; a path that could climb out of a
     * folder (.., %2e%2e once decoded, a backslash, a second slash) is
     * refused before any lookup, and nothing is ever read from disk. */
    if (!sw_ui_path_is_safe(url))
        return respond_error(c, MHD_HTTP_BAD_REQUEST, NULL, 0, "refused: '%.200s' is not the path of an asset", url);
    const sw_ui_asset *a = sw_ui_asset_find(url);
    if (!a) return respond_error(c, MHD_HTTP_NOT_FOUND, NULL, 0, "no such file: %.200s", url);
    return respond(c, MHD_HTTP_OK, a->type, a->data, a->size, 0, revalidate, 1);
}

/* The token from an Authorization: Bearer header, a token= parameter (the
 * URL printed at start-up) or the sw_token cookie, in that order (a cookie
 * may be a former server's); NULL if none. */
static const char *given_token(struct MHD_Connection *c, int *from_query)
{
    *from_query = 0;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h && !strncmp(h, "Bearer ", 7)) return h + 7;
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (q) {
        *from_query = 1;
        return q;
    }
    return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "sw_token");
}

/* The request line's path as sent, before libmicrohttpd decodes it: no path
 * of ours needs a %-escape, and a decoded one could hide a traversal (%2e%2e)
 * or cut the path short (%00). Its answer becomes the request's *con_cls. */
static char escaped_path; /* the mark of such a request */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    size_t path = strcspn(uri, "?");
    return memchr(uri, '%', path) ? &escaped_path : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    sw_ui_server *u = cls;
    if (*upload_size) { /* a body nobody asked for: read and dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
        static const char *const allow[][2] = {{"Allow", "GET, HEAD"}};
        return respond_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, allow, 1, "the dashboard only reads: GET or HEAD");
    }
    if (u->loopback) {
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        if (!sw_ui_host_is_loopback(host))
            return respond_error(c, MHD_HTTP_FORBIDDEN, NULL, 0,
                                 "refused: this dashboard answers to loopback names only (Host: %.100s)",
                                 host ? host : "none");
    } else {
        int from_query;
        const char *t = given_token(c, &from_query);
        if (!t) {
            static const char *const challenge[][2] = {{"WWW-Authenticate", "Bearer realm=\"stopwise\""}};
            return respond_error(c, MHD_HTTP_UNAUTHORIZED, challenge, 1,
                                 "this dashboard listens beyond loopback: open the URL with the token that "
                                 "`stopwise ui` printed at start-up, or send Authorization: Bearer TOKEN");
        }
        if (!sw_ui_token_equal(t, u->token))
            return respond_error(c, MHD_HTTP_FORBIDDEN, NULL, 0, "refused: wrong token");
        if (from_query && (!strcmp(url, "/") || !strcmp(url, "/index.html"))) {
            /* the printed URL: keep the token in a cookie and drop it from
             * the address bar (history, bookmarks, screenshots) */
            char cookie[160];
            snprintf(cookie, sizeof cookie, "sw_token=%s; HttpOnly; SameSite=Strict; Path=/", u->token);
            const char *const hdr[][2] = {{"Set-Cookie", cookie}, {"Location", "/"}, {"Cache-Control", "no-store"}};
            return respond(c, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8", "", 0, 0, hdr, 3);
        }
    }
    if (*con_cls == &escaped_path)
        return respond_error(c, MHD_HTTP_BAD_REQUEST, NULL, 0, "refused: a %%-escaped path is not the path of an asset");
    if (!strncmp(url, "/api/", 5)) {
        sw_ui_api_fn fn = sw_ui_api_find(url);
        if (!fn) return respond_error(c, MHD_HTTP_NOT_FOUND, NULL, 0, "no endpoint %.200s", url);
        return serve_api(u, c, fn);
    }
    return serve_asset(c, url);
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    sw_ui_server *u = cls;
    vsnprintf(u->log, sizeof u->log, fmt, ap);
    size_t n = strlen(u->log);
    while (n && (u->log[n - 1] == '\n' || u->log[n - 1] == ' ')) u->log[--n] = 0;
}

sw_status sw_ui_server_start(const sw_ui_options *o, sw_ui_server **out, sw_error *err)
{
    *out = NULL;
    const char *bind = o->bind && *o->bind ? o->bind : "127.0.0.1";
    if (!strcmp(bind, "localhost")) bind = "127.0.0.1";
    if (o->port < 0 || o->port > 65535)
        return sw_error_set(err, SW_ERR_INVALID, "--port %d: expected 1 to 65535 (0: any free port)", o->port);
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    int ipv6 = 0;
    if (inet_pton(AF_INET, bind, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)o->port);
    } else if (inet_pton(AF_INET6, bind, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)o->port);
        ipv6 = 1;
    } else {
        return sw_error_set(err, SW_ERR_INVALID, "--bind '%.100s': expected an IPv4 or IPv6 address (or localhost)",
                            bind);
    }
    sw_ui_server *u = calloc(1, sizeof *u);
    if (!u) return sw_error_set(err, SW_ERR_NOMEM, "out of memory");
    u->loopback = sw_ui_address_is_loopback(bind);
    sw_status st = u->loopback ? SW_OK : sw_ui_token_make(u->token, err);
    if (!st) st = sw_store_open_read_only(o->store, NULL, &u->store, err);
    if (st) {
        free(u);
        return st;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    u->daemon = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, u, MHD_OPTION_SOCK_ADDR,
                                 ipv6 ? (struct sockaddr *)&v6 : (struct sockaddr *)&v4, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_EXTERNAL_LOGGER,
                                 on_log, u, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_END);
    if (!u->daemon) {
        st = sw_error_set(err, SW_ERR_IO, "cannot listen on %s port %d: %s", bind, o->port,
                          u->log[0] ? u->log : "the address is in use or not this machine's");
        sw_store_close(u->store);
        free(u);
        return st;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(u->daemon, MHD_DAEMON_INFO_BIND_PORT);
    u->port = info ? info->port : o->port;
    snprintf(u->url, sizeof u->url, ipv6 ? "http://[%s]:%d/" : "http://%s:%d/", bind, u->port);
    *out = u;
    return SW_OK;
}

const char *sw_ui_server_url(const sw_ui_server *u) { return u->url; }
int sw_ui_server_port(const sw_ui_server *u) { return u->port; }
const char *sw_ui_server_token(const sw_ui_server *u) { return u->loopback ? NULL : u->token; }
const char *sw_ui_server_store(const sw_ui_server *u) { return sw_store_location(u->store); }

void sw_ui_server_stop(sw_ui_server *u)
{
    if (!u) return;
    if (u->daemon) MHD_stop_daemon(u->daemon);
    sw_store_close(u->store);
    free(u);
}
