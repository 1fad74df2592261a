/* nn/ learning-rate schedules at known points, decay_now, text form. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "stopwise/nn.h"

#define LR_AT(s, t, want) cr_assert(fabs(sw_schedule_lr(&(s), (t)) - (want)) <= 1e-12 + 1e-9 * fabs(want), \
                                    "lr(%s, %llu) = %.12g, expected %.12g", #s, (unsigned long long)(t),      \
                                    sw_schedule_lr(&(s), (t)), (double)(want))

static sw_schedule parse_ok(const char *text)
{
    sw_schedule s;
    sw_error err;
    cr_assert_eq(sw_schedule_parse(text, &s, &err), SW_OK, "'%s': %s", text, err.msg);
    return s;
}

Test(schedule, constant_and_warmup)
{
    sw_schedule c = parse_ok("constant:lr=0.01");
    LR_AT(c, 0, 0.01);
    LR_AT(c, 123456789, 0.01);
    sw_schedule w = parse_ok("warmup:lr=0.01,warmup=1k");
    LR_AT(w, 0, 0.0);      /* starts at 0                  */
    LR_AT(w, 250, 0.0025); /* 0.01 * 250/1000              */
    LR_AT(w, 1000, 0.01);  /* end of warm-up: the peak     */
    LR_AT(w, 5000000, 0.01);
}

Test(schedule, step_decay)
{
    sw_schedule s = parse_ok("step:lr=0.1,warmup=100,every=1k,gamma=0.5");
    LR_AT(s, 50, 0.05);   /* warm-up: 0.1 * 50/100            */
    LR_AT(s, 100, 0.1);   /* 0.1 * 0.5^floor(100/1000)         */
    LR_AT(s, 999, 0.1);
    LR_AT(s, 1000, 0.05); /* first decay at 1000 tokens        */
    LR_AT(s, 2500, 0.025);/* 0.1 * 0.5^2                       */
    LR_AT(s, 10000, 0.1 * pow(0.5, 10));
}

Test(schedule, cosine_with_warmup_and_floor)
{
    sw_schedule s = parse_ok("cosine:lr=0.01,warmup=1k,min=0.1");
    s.total = 11000; /* the caller fills the budget */
    LR_AT(s, 0, 0.0);
    LR_AT(s, 500, 0.005);
    LR_AT(s, 1000, 0.01); /* end of warm-up: cos(0) -> the peak               */
    /* middle: t' = 5000 of T' = 10000, (1 + cos(pi/2))/2 = 0.5:
     * 0.001 + (0.01 - 0.001) * 0.5 = 0.0055 */
    LR_AT(s, 6000, 0.0055);
    /* a quarter: (1 + cos(pi/4))/2 = 0.853553391 -> 0.001 + 0.009 * 0.853553391 */
    LR_AT(s, 3500, 0.001 + 0.009 * (1 + cos(M_PI / 4)) / 2);
    LR_AT(s, 11000, 0.001); /* end: the floor, and after it */
    LR_AT(s, 20000, 0.001);
    /* total unknown: hold the peak rather than divide by zero */
    s.total = 0;
    LR_AT(s, 6000, 0.01);
}

Test(schedule, restarts_sgdr)
{
    /* periods 1000, 2000, 4000 after a warm-up of 100: restarts at t' = 1000, 3000, 7000 */
    sw_schedule s = parse_ok("restarts:lr=0.02,warmup=100,period=1k,mult=2,min=0");
    LR_AT(s, 100, 0.02);          /* start of period 1                   */
    LR_AT(s, 600, 0.01);          /* middle of period 1: (1+cos(pi/2))/2 */
    LR_AT(s, 1099, 0.02 * (1 + cos(M_PI * 999.0 / 1000)) / 2); /* just before the restart */
    cr_assert(sw_schedule_lr(&s, 1099) < 1e-5);
    LR_AT(s, 1100, 0.02);         /* restart                             */
    LR_AT(s, 2100, 0.01);         /* middle of period 2 (2000 long)      */
    LR_AT(s, 3100, 0.02);         /* restart of period 3                 */
    LR_AT(s, 4100, 0.01 * (1 + cos(M_PI * 1000.0 / 4000)));
    LR_AT(s, 7100, 0.02);         /* period 4 begins                     */
    sw_schedule f = parse_ok("restarts:lr=0.02,period=1k,mult=1,min=0.5");
    LR_AT(f, 500, 0.015);         /* 0.01 + 0.01 * 0.5                   */
    LR_AT(f, 1000, 0.02);
    LR_AT(f, 7500, 0.015);
}

Test(schedule, wsd_and_decay_now)
{
    sw_schedule s = parse_ok("wsd:lr=0.01,warmup=1k,min=0.1,decay=0.2");
    s.total = 100000; /* decay over the last 20k tokens: from 80k to 100k */
    LR_AT(s, 500, 0.005);
    LR_AT(s, 1000, 0.01);
    LR_AT(s, 79999, 0.01);   /* stable                                   */
    LR_AT(s, 80000, 0.01);   /* decay start                              */
    LR_AT(s, 90000, 0.0055); /* halfway: 0.01 - 0.009 * 0.5              */
    LR_AT(s, 100000, 0.001); /* decay end: the floor                     */
    LR_AT(s, 150000, 0.001);

    /* A stop at 30k anneals over 5k tokens: linear from 0.01 to 0.001. */
    sw_schedule_decay_now(&s, 30000, 5000);
    cr_assert_eq(s.kind, SW_SCHEDULE_WSD);
    LR_AT(s, 30000, 0.01);
    LR_AT(s, 32500, 0.0055);
    LR_AT(s, 35000, 0.001);
    LR_AT(s, 40000, 0.001);
    char buf[256];
    sw_schedule_format(&s, buf, sizeof buf);
    sw_schedule back = parse_ok(buf);
    LR_AT(back, 32500, 0.0055);

    /* decay_now from a cosine mid-way: starts at the cosine's current rate
     * (0.0055 at t = 6000, see above) and ends at the same absolute floor. */
    sw_schedule c = parse_ok("cosine:lr=0.01,warmup=1k,min=0.1,total=11k");
    sw_schedule_decay_now(&c, 6000, 1000);
    LR_AT(c, 6000, 0.0055);
    LR_AT(c, 6500, (0.0055 + 0.001) / 2);
    LR_AT(c, 7000, 0.001);
    LR_AT(c, 9000, 0.001);

    /* a zero-length cool-down drops straight to the floor */
    sw_schedule z = parse_ok("wsd:lr=0.01,min=0.5,total=1M");
    sw_schedule_decay_now(&z, 100, 0);
    LR_AT(z, 99, 0.01);
    LR_AT(z, 101, 0.005);

    /* explicit decay window in the text form */
    sw_schedule e = parse_ok("wsd:lr=0.01,decay_start=2k,decay_tokens=1k");
    LR_AT(e, 1999, 0.01);
    LR_AT(e, 2500, 0.005);
    LR_AT(e, 3000, 0.0);
    /* no budget and no explicit start: stays stable */
    sw_schedule n = parse_ok("wsd:lr=0.01");
    LR_AT(n, 1000000000, 0.01);
}

static void parse_fails(const char *text, const char *needle);

/* wsd's 1-sqrt decay shape (Hägele et al. 2024): lr - (lr - floor) sqrt(x). */
Test(schedule, wsd_sqrt_shape)
{
    sw_schedule s = parse_ok("wsd:lr=0.01,min=0.1,decay_start=10k,decay_tokens=4k,shape=sqrt");
    cr_assert_eq(s.shape, SW_DECAY_SQRT);
    LR_AT(s, 9999, 0.01);
    LR_AT(s, 10000, 0.01);
    LR_AT(s, 11000, 0.01 - 0.009 * 0.5);  /* x = 1/4, sqrt = 1/2 */
    LR_AT(s, 12250, 0.01 - 0.009 * 0.75); /* x = 9/16            */
    LR_AT(s, 14000, 0.001);
    char buf[256];
    sw_schedule_format(&s, buf, sizeof buf);
    cr_assert(strstr(buf, "shape=sqrt"), "%s", buf);
    sw_schedule back = parse_ok(buf);
    LR_AT(back, 11000, 0.0055);
    /* a stop's cooldown keeps the schedule's shape (the trainer sets it) */
    sw_schedule w = parse_ok("wsd:lr=0.01,min=0.1,total=100k");
    sw_schedule_decay_now(&w, 20000, 4000);
    w.shape = SW_DECAY_SQRT;
    LR_AT(w, 21000, 0.0055);
    cr_assert_eq(sw_decay_shape_find("sqrt"), SW_DECAY_SQRT);
    cr_assert_eq(sw_decay_shape_find("linear"), SW_DECAY_LINEAR);
    cr_assert_eq(sw_decay_shape_find("cosine"), -1);
    parse_fails("wsd:lr=0.01,shape=cosine", "shape=cosine");
}

Test(schedule, format_round_trips)
{
    const char *texts[] = {
        "constant:lr=0.003",
        "warmup:lr=0.003,warmup=100k",
        "step:lr=0.1,warmup=0,every=1M,gamma=0.5",
        "cosine:lr=0.003,warmup=100k,min=0.1,total=20M",
        "restarts:lr=0.001,warmup=1234,min=0,period=1M,mult=2",
        "wsd:lr=0.001,warmup=0,min=0,total=0,decay=0.2",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        sw_schedule s = parse_ok(texts[i]);
        char buf[256];
        cr_assert_str_eq(sw_schedule_format(&s, buf, sizeof buf), texts[i]);
    }
    sw_schedule s = parse_ok("cosine:lr=3e-3,warmup=100k,min=0.1");
    char buf[256];
    cr_assert_str_eq(sw_schedule_format(&s, buf, sizeof buf), "cosine:lr=0.003,warmup=100k,min=0.1,total=0");
    sw_schedule d = parse_ok("cosine");
    cr_assert_eq(d.kind, SW_SCHEDULE_COSINE);
    cr_assert(d.lr > 0, "a bare kind gets a default learning rate");
}

static void parse_fails(const char *text, const char *needle)
{
    sw_schedule s;
    sw_error err;
    err.msg[0] = 0;
    cr_assert_eq(sw_schedule_parse(text, &s, &err), SW_ERR_INVALID, "'%s' parsed", text);
    cr_assert(strstr(err.msg, needle), "'%s': message '%s' does not name '%s'", text, err.msg, needle);
}

Test(schedule, parse_errors_name_the_bad_part)
{
    parse_fails("linear:lr=1", "unknown kind 'linear'");
    parse_fails("cosine:lr=abc", "lr=abc is not a number");
    parse_fails("cosine:warmup=1x", "warmup=1x is not a token count");
    parse_fails("constant:lr=0.1,warmup=10", "unknown key 'warmup' for constant");
    parse_fails("cosine:every=1M", "unknown key 'every' for cosine");
    parse_fails("cosine:lr=0.1,min=2", "min=2");
    parse_fails("cosine:lr=-1", "lr=-1");
    parse_fails("step:lr=0.1", "every=TOKENS");
    parse_fails("step:every=1k,gamma=0", "gamma=0");
    parse_fails("restarts:lr=0.1", "period=TOKENS");
    parse_fails("restarts:period=1k,mult=0.5", "mult=0.5");
    parse_fails("wsd:decay=1.5", "decay=1.5");
    parse_fails("cosine:lr", "bad item 'lr'");
    parse_fails("cosine:", "nothing after ':'");
}
