/* A growing SQL text with its parameters, for the queries whose WHERE clause
 * depends on what the caller asked (a list filter, a page of runs). Only
 * fixed SQL fragments are appended as text; every value is a parameter. */
#include "store/internal.h"

#include <stdlib.h>
#include <string.h>

void sw_store_query_add(sw_store_query *q, const char *text)
{
    size_t l = strlen(text);
    if (SW_ARRAY_RESERVE(q->sql, q->cap, q->len + l + 1)) {
        q->oom = 1;
        return;
    }
    memcpy(q->sql + q->len, text, l + 1);
    q->len += l;
}

void sw_store_query_param(sw_store_query *q, sw_db_val v)
{
    if (SW_ARRAY_RESERVE(q->p, q->pcap, q->n + 1)) {
        q->oom = 1;
        return;
    }
    q->p[q->n++] = v;
}

sw_status sw_store_query_run(sw_store *s, sw_store_query *q, sw_db_result *res)
{
    memset(res, 0, sizeof *res);
    if (q->oom) return sw_error_set(&s->err, SW_ERR_NOMEM, "out of memory");
    return sw_store_sql(s, q->sql, q->p, q->n, res);
}

void sw_store_query_free(sw_store_query *q)
{
    free(q->sql);
    free(q->p);
    memset(q, 0, sizeof *q);
}
