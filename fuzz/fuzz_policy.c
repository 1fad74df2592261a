/* Fuzz target: the policy text form (stop/policy.c). A policy that parses
 * must print to text that parses to the same policy (stop.h), and a
 * controller built from it must run a fixed curve and survive save/restore
 * at every step. One that does not must fail the same way through
 * sw_policy_parse_located, whose column and width lie in the text (or just
 * past a value left empty at its end) and agree with the message. */
#include "fuzz_stop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    sw_policy *p = NULL;
    sw_error err;
    err.msg[0] = 0;
    if (sw_policy_parse(text, &p, &err) != SW_OK) {
        FUZZ_CHECK(p == NULL && err.msg[0]);
        size_t col = 99, width = 99, len = strlen(text);
        sw_error err2;
        FUZZ_CHECK(sw_policy_parse_located(text, &p, &col, &width, &err2) == err.status && p == NULL);
        FUZZ_CHECK(!strcmp(err.msg, err2.msg));
        if (col) {
            char head[64];
            snprintf(head, sizeof head, "policy character %zu (", col);
            FUZZ_CHECK(col <= len + 1 && col - 1 + width <= len && !strncmp(err.msg, head, strlen(head)));
        } else {
            FUZZ_CHECK(width == 0 && strncmp(err.msg, "policy character ", 17));
        }
        free(text);
        return 0;
    }
    size_t n = sw_policy_format(p, NULL, 0);
    char *a = malloc(n + 1), *b = malloc(n + 1);
    FUZZ_CHECK(a && b);
    FUZZ_CHECK(sw_policy_format(p, a, n + 1) == n && strlen(a) == n);
    sw_policy *q = NULL;
    FUZZ_CHECK(sw_policy_parse(a, &q, &err) == SW_OK);
    FUZZ_CHECK(sw_policy_format(q, b, n + 1) == n && !strcmp(a, b));
    FUZZ_CHECK(sw_policy_n_rules(q) == sw_policy_n_rules(p));
    FUZZ_CHECK(sw_policy_maximize(q) == sw_policy_maximize(p));
    FUZZ_CHECK(sw_policy_budget(q) == sw_policy_budget(p) && sw_policy_warmup(q) == sw_policy_warmup(p));
    for (size_t i = 0; i < sw_policy_n_rules(p); i++) FUZZ_CHECK(sw_policy_rule(p, i) == sw_policy_rule(q, i));
    sw_policy_free(q);

    sw_controller *c = NULL;
    if (sw_controller_create(p, 20000, &c, &err) == SW_OK) {
        for (int round = 0; round < 4 && !sw_controller_stopped(c); round++) {
            size_t before = sw_controller_count(c);
            fuzz_feed(c, (uint64_t)before * 1000, 5, (unsigned)size);
            fuzz_check_save_restore(c);
            if (sw_controller_count(c) == before) break; /* an error: nothing more to feed */
        }
        sw_controller_free(c);
    } else {
        FUZZ_CHECK(c == NULL && err.msg[0]);
    }
    sw_policy_free(p);
    free(a);
    free(b);
    free(text);
    return 0;
}
