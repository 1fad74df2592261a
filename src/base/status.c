/* Status names, exit codes and error messages. */
#include "stopwise/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sw_version(void) { return SW_VERSION_STRING; }

const char *sw_status_str(sw_status s)
{
    switch (s) {
    case SW_OK: return "ok";
    case SW_ERR_INVALID: return "invalid argument";
    case SW_ERR_FORMAT: return "malformed input";
    case SW_ERR_NOT_FOUND: return "not found";
    case SW_ERR_VERSION: return "unsupported version";
    case SW_ERR_CONNECT: return "connection failed";
    case SW_ERR_IO: return "i/o error";
    case SW_ERR_NOMEM: return "out of memory";
    case SW_ERR_STATE: return "invalid state";
    case SW_ERR_BUSY: return "busy";
    case SW_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

int sw_status_exit_code(sw_status s)
{
    switch (s) {
    case SW_OK: return 0;
    case SW_ERR_INVALID:
    case SW_ERR_FORMAT:
    case SW_ERR_NOT_FOUND:
    case SW_ERR_VERSION: return 2;
    /* a server that cannot be reached (or was lost) is not bad input: the
     * same command may work later */
    case SW_ERR_CONNECT: return 1;
    default: return 1;
    }
}

sw_status sw_error_set(sw_error *err, sw_status s, const char *fmt, ...)
{
    if (err) {
        /* formatted aside first: an argument may be err->msg itself (a
         * caller prefixing a lower layer's message), and vsnprintf's source
         * and destination must not overlap */
        char msg[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        sw_vsnprintf(msg, sizeof msg, fmt, ap); /* "0.5" whatever the locale */
        va_end(ap);
        memcpy(err->msg, msg, sizeof msg);
        err->status = s;
    }
    return s;
}

void sw_error_clear(sw_error *err)
{
    if (err) {
        err->status = SW_OK;
        err->msg[0] = 0;
    }
}
