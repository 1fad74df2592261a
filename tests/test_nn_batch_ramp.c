/* The batch-size ramp: sizes at hand-computed token counts, the learning-rate
 * scaling rules, and its text form. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "stopwise/nn.h"

static sw_batch_ramp parse(const char *text)
{
    sw_batch_ramp r;
    sw_error err;
    cr_assert_eq(sw_batch_ramp_parse(text, &r, &err), SW_OK, "%s: %s", text, err.msg);
    return r;
}

/* from=32, to=256: u = 32, (256 - 32)/32 = 7 steps over R tokens:
 * B(t) = 32 + 32 floor(7 t / R). With over=0.3 of a 10000-token budget,
 * R = 3000: 7 x 428 = 2996 < 3000 (32), 7 x 429 = 3003 (64), 7 x 2999 =
 * 20993 = 6 x 3000 + 2993 (32 + 6 x 32 = 224), and 256 from 3000 on. */
Test(batch_ramp, sizes_at_hand_computed_tokens)
{
    sw_batch_ramp r = parse("from=32,to=256,over=0.3");
    r.total = 10000;
    cr_assert_eq(sw_batch_ramp_unit(&r), 32);
    cr_assert_eq(sw_batch_ramp_length(&r), 3000);
    cr_assert_eq(sw_batch_ramp_size(&r, 0), 32);
    cr_assert_eq(sw_batch_ramp_size(&r, 428), 32);
    cr_assert_eq(sw_batch_ramp_size(&r, 429), 64);
    cr_assert_eq(sw_batch_ramp_size(&r, 1715), 160); /* 7 x 1715 = 12005 = 4 x 3000 + 5: 32 + 4 x 32 */
    cr_assert_eq(sw_batch_ramp_size(&r, 1714), 128); /* 11998: 3 x 3000 + 2998 */
    cr_assert_eq(sw_batch_ramp_size(&r, 2999), 224);
    cr_assert_eq(sw_batch_ramp_size(&r, 3000), 256);
    cr_assert_eq(sw_batch_ramp_size(&r, 1u << 30), 256);
    /* non-decreasing, always a multiple of u */
    for (uint64_t t = 0, last = 0; t < 3200; t += 7) {
        int b = sw_batch_ramp_size(&r, t);
        cr_assert_geq(b, (int)last);
        cr_assert_eq(b % 32, 0);
        last = (uint64_t)b;
    }
    /* from=48, to=256: u = gcd = 16, 13 steps; over_tokens=1300: a step every 100 */
    r = parse("over_tokens=1300,to=256,from=48");
    cr_assert_eq(sw_batch_ramp_unit(&r), 16);
    cr_assert_eq(sw_batch_ramp_length(&r), 1300);
    cr_assert_eq(sw_batch_ramp_size(&r, 99), 48);
    cr_assert_eq(sw_batch_ramp_size(&r, 100), 64);
    cr_assert_eq(sw_batch_ramp_size(&r, 1299), 48 + 12 * 16);
    cr_assert_eq(sw_batch_ramp_size(&r, 1300), 256);
    /* from = to: a fixed batch (with a scaled rate, below); over=0: no ramp */
    r = parse("from=64,to=64");
    r.total = 1000;
    cr_assert_eq(sw_batch_ramp_size(&r, 0), 64);
    r = parse("from=8,to=64,over=0");
    r.total = 1000;
    cr_assert_eq(sw_batch_ramp_size(&r, 0), 64);
}

Test(batch_ramp, learning_rate_scaling)
{
    sw_batch_ramp r = parse("from=32,to=256");
    cr_assert_float_eq(sw_batch_ramp_lr_factor(&r, 256), 1.0, 1e-15);
    cr_assert_float_eq(sw_batch_ramp_lr_factor(&r, 32), sqrt(32.0 / 256), 1e-15);
    cr_assert_float_eq(sw_batch_ramp_lr_factor(&r, 64), 0.5, 1e-15);
    r = parse("from=32,to=256,scale=linear");
    cr_assert_float_eq(sw_batch_ramp_lr_factor(&r, 64), 0.25, 1e-15);
    r = parse("from=32,to=256,scale=none");
    cr_assert_float_eq(sw_batch_ramp_lr_factor(&r, 64), 1.0, 1e-15);
    r = parse("from=256,to=256,ref=128");
    cr_assert_float_eq(sw_batch_ramp_lr_factor(&r, 256), sqrt(2.0), 1e-15);
}

Test(batch_ramp, text_form)
{
    sw_batch_ramp r = parse("from=32,to=256,over=0.25,scale=linear");
    char buf[160];
    cr_assert_str_eq(sw_batch_ramp_format(&r, buf, sizeof buf), "from=32,to=256,over=0.25,scale=linear,ref=256");
    sw_batch_ramp back = parse(buf);
    cr_assert_eq(back.from, 32);
    cr_assert_eq(back.ref, 256);
    cr_assert_eq(back.scale, SW_LR_SCALING_LINEAR);
    r = parse("from=16,to=64,over_tokens=1.5M");
    cr_assert_str_eq(sw_batch_ramp_format(&r, buf, sizeof buf), "from=16,to=64,over_tokens=1500000,scale=sqrt,ref=64");

    struct { const char *text, *says; } bad[] = {
        {"from=256,to=32", "above to=32"},
        {"from=32", "expected from=N and to=N"},
        {"from=32,to=64,scale=cube", "scale=cube"},
        {"from=32,to=64,over=1.5", "over=1.5"},
        {"from=0,to=64", "from=0"},
        {"from=32,to=8192", "to=8192"},
        {"from=32,to=64,size=3", "unknown key 'size'"},
        {"32..256", "bad item"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sw_error err;
        cr_assert_eq(sw_batch_ramp_parse(bad[i].text, &r, &err), SW_ERR_INVALID, "%s", bad[i].text);
        cr_assert(strstr(err.msg, bad[i].says), "%s: %s", bad[i].text, err.msg);
    }
}
