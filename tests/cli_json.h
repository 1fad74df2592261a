/* Test helper (header-only: support.c links into every test, and only the
 * end-to-end tests link jansson): reading what `stopwise ... --json` printed.
 * Short names, like checkpoint_params.h's, as they stand in most assertions. */
#ifndef SW_TEST_CLI_JSON_H
#define SW_TEST_CLI_JSON_H

#include <criterion/criterion.h>
#include <jansson.h>

/* The CLI's stdout as one JSON value (caller json_decref's it); fails the
 * test, showing the text and the parse error, if it is not one. */
static inline json_t *parse_json(const char *out)
{
    json_error_t e;
    json_t *j = json_loads(out ? out : "", 0, &e);
    cr_assert_not_null(j, "stdout is not one JSON object: %s (%s)", out ? out : "(null)", e.text);
    return j;
}

/* The number at `key` of object o; fails the test if it is missing or not a number. */
static inline double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_number(v), "key %s missing or not a number", key);
    return json_number_value(v);
}

#endif
