/* The dashboard: `stopwise ui` serves the store's runs, curves, tuned
 * policies and studies as JSON and one page; `stopwise report` writes the
 * same views as one self-contained HTML file. docs/UI.md.
 *
 * Layer: ui/ sits beside cli/ at the top and reads the store only, through
 * its read-only handle (sw_store_open_read_only). Its header is private
 * (src/, not include/): the dashboard is an application of the library, not
 * part of libstopwise's API, so libmicrohttpd stays out of the library's
 * link line and out of stopwise.pc.
 *
 * Errors are sw_status values with the message in *err; nothing here prints
 * or exits. */
#ifndef SW_UI_H
#define SW_UI_H

#include "stopwise/base.h"
#include "stopwise/store.h"

typedef struct sw_ui_options {
    const char *store; /* the store's location (a file or a postgresql:// URL)        */
    const char *bind;  /* an IPv4 or IPv6 address, or "localhost" (127.0.0.1)          */
    int port;          /* 1-65535, or 0 for any free port (tests)                      */
} sw_ui_options;

typedef struct sw_ui_server sw_ui_server;

/* Opens the store read-only and starts serving on bind:port in a thread of
 * its own (one thread serves every request, so the one store handle is
 * never shared). On a loopback address every request must name a loopback
 * host (against DNS rebinding); on any other address every request must
 * carry the token made here (sw_ui_server_token). *out: free with
 * sw_ui_server_stop. SW_ERR_INVALID for a bad address or port, the store's
 * errors as sw_store_open_read_only, SW_ERR_IO when the port cannot be bound. */
sw_status sw_ui_server_start(const sw_ui_options *o, sw_ui_server **out, sw_error *err);
/* "http://ADDR:PORT/" (owned by the server). */
const char *sw_ui_server_url(const sw_ui_server *u);
/* The port bound (the one chosen when 0 was asked). */
int sw_ui_server_port(const sw_ui_server *u);
/* The access token (64 hex digits), or NULL on a loopback address. */
const char *sw_ui_server_token(const sw_ui_server *u);
/* The store's location as shown (password redacted). */
const char *sw_ui_server_store(const sw_ui_server *u);
/* Stops serving and closes the store. NULL is a no-op. */
void sw_ui_server_stop(sw_ui_server *u);

/* 1 when this binary embeds the page (npm was there when it was built, see
 * docs/UI.md), 0 when it serves the JSON API only. */
int sw_ui_page_built(void);

/* Writes `what` (a run id, a tuned task key, or a task name of runs) as one
 * static HTML file at `path` that needs nothing else: assets and data are
 * inlined. SW_ERR_NOT_FOUND when the store has nothing by that name,
 * SW_ERR_STATE when this binary has no page to inline. */
sw_status sw_ui_report_write(sw_store *s, const char *what, const char *path, sw_error *err);

#endif
