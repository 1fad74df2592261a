/* stop/: the policy text form: round trips, accessors and parse errors that
 * point at the bad part. */
#include <criterion/criterion.h>
#include <string.h>

#include "stop_helpers.h"
#include "stopwise/stop.h"

static void fmt(const sw_policy *p, char *buf, size_t cap)
{
    size_t n = sw_policy_format(p, buf, cap);
    cr_assert_lt(n, cap);
}

Test(policy, canonical_text_prints_back_identically)
{
    static const char *texts[] = {
        "patience=5:min_delta=0.1,gain=0.2,diverge,warmup=1M",
        "patience=10:min_delta=0.01%",
        "gl=5,pq=0.5:k=5,up=3:k=4",
        "extrapolate=0.5:z=2:min_points=8:at=20M,budget=20M",
        "diverge:max=10:factor=3:on=val_loss",
        "target=90,monitor=val_em:max",
        "patience=3,monitor=val_loss",
        "gain=0.2:window=10,every=1234567",
        "warmup=1.5M,budget=20M,every=200k",
        "target=0.123456789012345,budget=3G",
        "target=-2.5e-07,monitor=dev_acc",
        "none",
    };
    sw_test_policy_round_trips(texts, sizeof texts / sizeof *texts);
}

Test(policy, any_text_formats_to_an_equivalent_policy)
{
    static const char *texts[] = {"warmup=1000000,patience=5", "monitor=val_loss,gl=5", "diverge:factor=10:max=50",
                                  "budget=1500k,target=90.0", "patience=05"};
    static const char *canon[] = {"patience=5,warmup=1M", "gl=5,monitor=val_loss", "diverge:max=50:factor=10",
                                  "target=90,budget=1.5M", "patience=5"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        sw_policy *p, *q;
        cr_assert_eq(sw_policy_parse(texts[i], &p, NULL), SW_OK, "%s", texts[i]);
        char a[256], b[256];
        fmt(p, a, sizeof a);
        cr_assert_str_eq(a, canon[i]);
        cr_assert_eq(sw_policy_parse(a, &q, NULL), SW_OK);
        fmt(q, b, sizeof b);
        cr_assert_str_eq(a, b);
        sw_policy_free(p);
        sw_policy_free(q);
    }
}

Test(policy, accessors_and_defaults)
{
    sw_policy *p;
    cr_assert_eq(sw_policy_parse("patience=5,gl=5,pq=1,warmup=1M,budget=20M,every=200k", &p, NULL), SW_OK);
    cr_assert_str_eq(sw_policy_monitor(p), "val_em");
    cr_assert(sw_policy_maximize(p));
    cr_assert_eq(sw_policy_warmup(p), 1000000u);
    cr_assert_eq(sw_policy_budget(p), 20000000u);
    cr_assert_eq(sw_policy_every(p), 200000u);
    cr_assert_eq(sw_policy_n_rules(p), 3);
    cr_assert_eq(sw_policy_rule(p, 0), SW_RULE_PATIENCE);
    cr_assert_eq(sw_policy_rule(p, 2), SW_RULE_PQ);
    cr_assert_eq(sw_policy_rule(p, 3), SW_RULE_NONE);
    cr_assert(sw_policy_needs(p, "val_em"));
    cr_assert(sw_policy_needs(p, "val_loss"));
    cr_assert(sw_policy_needs(p, "train_loss"));
    cr_assert_not(sw_policy_needs(p, "test_em"));
    sw_policy_free(p);
    /* a loss monitor defaults to min; an explicit mode wins */
    cr_assert_eq(sw_policy_parse("monitor=val_loss", &p, NULL), SW_OK);
    cr_assert_not(sw_policy_maximize(p));
    sw_policy_free(p);
    cr_assert_eq(sw_policy_parse("monitor=val_loss:max", &p, NULL), SW_OK);
    cr_assert(sw_policy_maximize(p));
    sw_policy_free(p);
    sw_policy_free(NULL);
    /* truncated formatting still NUL-terminates and reports the length */
    cr_assert_eq(sw_policy_parse("patience=5:min_delta=0.1", &p, NULL), SW_OK);
    char small[8];
    cr_assert_eq(sw_policy_format(p, small, sizeof small), strlen("patience=5:min_delta=0.1"));
    cr_assert_str_eq(small, "patienc");
    cr_assert_eq(sw_policy_format(p, NULL, 0), strlen("patience=5:min_delta=0.1"));
    sw_policy_free(p);
    cr_assert_str_eq(sw_rule_kind_name(SW_RULE_EXTRAPOLATE), "extrapolate");
}

static void bad(const char *text, const char *part1, const char *part2)
{
    sw_policy *p = (sw_policy *)1;
    sw_error err;
    cr_assert_eq(sw_policy_parse(text, &p, &err), SW_ERR_INVALID, "'%s' parsed", text);
    cr_assert_null(p);
    cr_assert_eq(err.status, SW_ERR_INVALID);
    cr_assert(strstr(err.msg, part1), "'%s': message '%s' lacks '%s'", text, err.msg, part1);
    if (part2) cr_assert(strstr(err.msg, part2), "'%s': message '%s' lacks '%s'", text, err.msg, part2);
}

Test(policy, parse_errors_point_at_the_bad_part)
{
    bad("patience=x", "policy character 10 ('x' in 'patience=x')", "patience needs a whole number of evaluations >= 1");
    bad("patience=5,bogus=1", "character 12 ('bogus' in 'bogus=1')", "unknown rule; expected patience");
    bad("patience=5:foo=1", "character 12 ('foo'", "unknown option for patience (its options: min_delta)");
    bad("patience=5:min_delta", "option min_delta needs a value", NULL);
    bad("patience=5:min_delta=-1", "min_delta needs a number >= 0", NULL);
    bad("patience=5:min_delta=1:min_delta=2", "option given twice", NULL);
    bad("patience", "patience needs a whole number", NULL);
    bad("patience=0", "patience needs a whole number of evaluations >= 1", NULL);
    bad("gl", "gl needs a threshold >= 0 (gl=5)", NULL);
    bad("gain=-1", "gain needs a threshold >= 0 (gain=0.2)", NULL);
    bad("pq=0.5:k=0", "k needs a whole number of evaluations from 1 to 1000", NULL);
    bad("warmup=abc", "character 8 ('abc' in 'warmup=abc')", "warmup needs a token count such as 1M");
    bad("budget=0", "budget needs a token count", NULL);
    bad("warmup=1M,warmup=2M", "warmup given twice", NULL);
    bad("patience=5,,gain=1", "character 12", "empty rule");
    bad("patience=5,", "empty rule", NULL);
    bad("patience=5, gain=1", "character 12", "whitespace is not allowed");
    bad("", "empty; write 'none'", NULL);
    bad("diverge=3", "diverge takes no value", NULL);
    bad("diverge:factor=1", "factor needs a number > 1", NULL);
    bad("diverge:on=a b", "whitespace", NULL);
    bad("monitor=val_em:avg", "('avg' in 'monitor=val_em:avg')", "monitor's mode must be max or min");
    bad("monitor=", "monitor needs a metric name", NULL);
    bad("none,patience=5", "'none' must be the whole policy", NULL);
    bad("extrapolate=0.5:at=0", "at needs a token count > 0", NULL);
    bad("extrapolate=0.5:min_points=3", "min_points needs a whole number >= 4", NULL);
    bad("target=abc", "target needs a value of the monitored metric", NULL);
    bad("patience=5:", "empty option after ':'", NULL);
}

/* sw_policy_parse_located: the column and width agree with the message's
 * "policy character N ('PART' ...)" and mark PART in the text. */
static void located(const char *text, size_t column, const char *part)
{
    sw_policy *p = (sw_policy *)1;
    sw_error err;
    size_t col = 99, width = 99;
    cr_assert_eq(sw_policy_parse_located(text, &p, &col, &width, &err), SW_ERR_INVALID, "%s", text);
    cr_assert_null(p);
    cr_assert_eq(col, column, "'%s': column %zu, expected %zu (%s)", text, col, column, err.msg);
    cr_assert_eq(width, strlen(part), "'%s': width %zu, expected %zu", text, width, strlen(part));
    cr_assert(!strncmp(text + col - 1, part, width), "'%s': column %zu does not start '%s'", text, col, part);
    char head[64];
    snprintf(head, sizeof head, "policy character %zu ('%s'", column, part);
    cr_assert(strstr(err.msg, head), "'%s': message '%s' lacks '%s'", text, err.msg, head);
}

Test(policy, parse_located_gives_the_column_and_width)
{
    located("patience=x", 10, "x");
    located("patience=5,bogus=1", 12, "bogus");
    located("patience=5:foo=1", 12, "foo");
    located("patience=5, gain=1", 12, " ");
    located("warmup=abc", 8, "abc");
    located("all(patience=5,gain=1", 21, "1");
    located("patience=", 10, ""); /* an empty value: just past the '=' */

    /* failures that point at no character, and success, give 0 */
    sw_policy *p;
    size_t col = 99, width = 99;
    cr_assert_eq(sw_policy_parse_located("", &p, &col, &width, NULL), SW_ERR_INVALID);
    cr_assert_eq(col, 0);
    cr_assert_eq(width, 0);
    col = width = 99;
    cr_assert_eq(sw_policy_parse_located(NULL, &p, &col, &width, NULL), SW_ERR_INVALID);
    cr_assert_eq(col + width, 0);
    col = width = 99;
    cr_assert_eq(sw_policy_parse_located("patience=5,diverge", &p, &col, &width, NULL), SW_OK);
    cr_assert_eq(col + width, 0);
    sw_policy_free(p);
    /* the pointers are optional */
    cr_assert_eq(sw_policy_parse_located("patience=x", &p, NULL, NULL, NULL), SW_ERR_INVALID);
}

/* Found by fuzz_policy: a subnormal threshold (written in hex) printed as
 * "5e-324", which did not parse back. */
Test(policy, a_subnormal_number_prints_back)
{
    sw_policy *p, *q;
    sw_error err;
    cr_assert_eq(sw_policy_parse("extrapolate=0x1p-1074", &p, &err), SW_OK, "%s", err.msg);
    char a[256], b[256];
    fmt(p, a, sizeof a);
    cr_assert_str_eq(a, "extrapolate=5e-324");
    cr_assert_eq(sw_policy_parse(a, &q, &err), SW_OK, "%s", err.msg);
    fmt(q, b, sizeof b);
    cr_assert_str_eq(a, b);
    sw_policy_free(p);
    sw_policy_free(q);
}
