/* What the ui/ files share: the embedded assets, the JSON endpoints and the
 * request they read their parameters from. Private to ui/ (and its tests). */
#ifndef SW_UI_INTERNAL_H
#define SW_UI_INTERNAL_H

#include "ui/ui.h"

#include <jansson.h>
#include <stddef.h>

/* ---- assets (assets.c; the table is generated at build time from web/) ---- */

typedef struct sw_ui_asset {
    const char *path;         /* "/app.js"                                     */
    const char *type;         /* its Content-Type                              */
    const unsigned char *data;
    size_t size;
} sw_ui_asset;

extern const sw_ui_asset sw_ui_assets[];
extern const size_t sw_ui_assets_count;
extern const int sw_ui_assets_built;

/* The asset at exactly this path, or NULL. */
const sw_ui_asset *sw_ui_asset_find(const char *path);
/* 1 if path names an asset's place: "/" then [A-Za-z0-9._-], no "..". Any
 * other path (a traversal, an encoded one, a backslash) is refused before
 * any lookup. */
int sw_ui_path_is_safe(const char *path);

/* ---- access (auth.c) ------------------------------------------------------- */

/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z. */
int sw_ui_address_is_loopback(const char *addr);
/* 1 if a Host header names this machine's loopback (localhost, 127.x, [::1],
 * with or without a port): what a loopback-only server accepts, so that a
 * web page whose name was rebound to 127.0.0.1 cannot read it. */
int sw_ui_host_is_loopback(const char *host);
/* 64 hex digits from the system's random source into token[65]. */
sw_status sw_ui_token_make(char token[65], sw_error *err);
/* Compares in time independent of where they differ. 0 for NULL. */
int sw_ui_token_equal(const char *given, const char *token);

/* ---- JSON endpoints (api_*.c) --------------------------------------------- */

/* A request's query parameters, from the HTTP server or from the report. */
typedef struct sw_ui_request {
    const char *(*param)(const struct sw_ui_request *rq, const char *name); /* NULL if absent */
    void *ctx;
} sw_ui_request;

/* An endpoint: a new JSON value in *out, or a status with err's message:
 * SW_ERR_INVALID -> 400, SW_ERR_NOT_FOUND -> 404, anything else -> 500. */
typedef sw_status (*sw_ui_api_fn)(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err);

sw_status sw_ui_api_info(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err);
sw_status sw_ui_api_runs(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err);
sw_status sw_ui_api_run(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err);
sw_status sw_ui_api_curve(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err);
sw_status sw_ui_api_tuning(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err);
sw_status sw_ui_api_task(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err);
sw_status sw_ui_api_studies(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err);
sw_status sw_ui_api_study(sw_store *s, const sw_ui_request *rq, json_t **out, sw_error *err);

/* The endpoint at a path ("/api/runs"), or NULL. */
sw_ui_api_fn sw_ui_api_find(const char *path);

/* ---- JSON helpers (json.c) ------------------------------------------------- */

/* A run row as the runs table and the run view read it (a new object). */
json_t *sw_ui_row_json(const sw_store_run_row *r);
/* A curve in columns: tokens, step, wall_s, val_em, val_loss, train_loss
 * arrays and metrics {name: array}, null where a value is missing. */
json_t *sw_ui_curve_json(const sw_store_curve *c);
/* One run's row, by id (SW_ERR_NOT_FOUND if absent). */
sw_status sw_ui_row_get(sw_store *s, int64_t id, sw_store_run_row *out, sw_error *err);
/* A text that may hold JSON: parsed when it does, else the text itself. */
json_t *sw_ui_json_or_text(const char *text);
/* A whole number parameter in [lo, hi]: *out = dflt when absent,
 * SW_ERR_INVALID (naming it) when not a number in range. */
sw_status sw_ui_param_int(const sw_ui_request *rq, const char *name, long long lo, long long hi, long long dflt,
                          long long *out, sw_error *err);
/* Compact JSON text, '<' written as \u003c so that it can sit inside an
 * HTML <script> element. malloc'd; NULL when out of memory. */
char *sw_ui_json_text(const json_t *v);
/* Copies the store's last message into err with status st. */
sw_status sw_ui_store_error(sw_store *s, sw_status st, sw_error *err);

#endif
