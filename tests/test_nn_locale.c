/* nn/ under a comma-decimal process locale (defect 10): model, optimizer and
 * schedule specs parse and print "0.1", never "0,1", whatever the host's
 * setlocale said. */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "stopwise/nn.h"
#include "support.h"

Test(nn_locale, model_spec_round_trips)
{
    sw_test_comma_locale();
    sw_model_spec s, back;
    sw_error err;
    cr_assert_eq(sw_model_spec_parse("gpt:layers=2,d=32,heads=2,ctx=8,vocab=11,tied=0,dropout=0.1", &s, &err), SW_OK,
                 "%s", err.msg);
    cr_assert_eq(s.dropout, 0.1f);
    char buf[512];
    cr_assert_str_eq(sw_model_spec_format(&s, buf, sizeof buf),
                     "gpt:layers=2,d=32,heads=2,ctx=8,vocab=11,tied=0,dropout=0.1");
    cr_assert_eq(sw_model_spec_parse(buf, &back, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(back.dropout, s.dropout);
    cr_assert_eq(sw_model_spec_parse("mlp:hidden=64,act=gelu,dropout=0.25", &s, &err), SW_OK, "%s", err.msg);
    cr_assert_not_null(strstr(sw_model_spec_format(&s, buf, sizeof buf), "dropout=0.25,"), "%s", buf);
    setlocale(LC_NUMERIC, "C");
}

Test(nn_locale, optimizer_and_schedule_specs)
{
    sw_test_comma_locale();
    sw_optimizer_params p;
    sw_error err;
    cr_assert_eq(sw_optimizer_params_parse("adamw:beta2=0.99,wd=0.1,clip=1.5", &p, &err), SW_OK, "%s", err.msg);
    cr_assert_eq(p.beta2, 0.99f);
    cr_assert_eq(p.weight_decay, 0.1f);
    cr_assert_eq(p.clip, 1.5f);
    const char *texts[] = {
        "cosine:lr=0.003,warmup=1500,min=0.1,total=20M",
        "step:lr=0.1,warmup=0,every=1M,gamma=0.5",
        "restarts:lr=0.001,warmup=1234,min=0,period=1M,mult=2.5",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        sw_schedule s;
        cr_assert_eq(sw_schedule_parse(texts[i], &s, &err), SW_OK, "%s: %s", texts[i], err.msg);
        char buf[256];
        cr_assert_str_eq(sw_schedule_format(&s, buf, sizeof buf), texts[i]);
    }
    setlocale(LC_NUMERIC, "C");
}
