/* search/: samplers. Reproducible (a pure function of seed, trial number and
 * history), inside the unit cube; the scrambled Halton sequence fills every
 * elementary interval once and has a lower discrepancy than random points;
 * TPE moves towards where the good trials are. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopwise/search.h"

static sw_space *space_of(const char *text)
{
    sw_space *sp = NULL;
    sw_error e = {0};
    cr_assert_eq(sw_space_parse(text, strlen(text), "s", &sp, &e), SW_OK, "%s", e.msg);
    return sp;
}

static const char *four = "data = x\na = range(0, 1)\nb = range(0, 1)\nc = range(0, 1)\nd = range(0, 1)\n";

static sw_sampler_options sampler(const char *spec)
{
    sw_sampler_options o;
    sw_error e = {0};
    cr_assert_eq(sw_sampler_parse(spec, &o, &e), SW_OK, "%s", e.msg);
    return o;
}

Test(search_sampler, specs_parse_and_print)
{
    char buf[128];
    sw_sampler_options o = sampler("tpe");
    cr_assert_eq(o.kind, SW_SAMPLER_TPE);
    sw_sampler_format(&o, buf, sizeof buf);
    cr_assert_str_eq(buf, "tpe:startup=10,gamma=0.2,candidates=24");
    o = sampler("tpe:startup=3,gamma=0.25");
    cr_assert_eq(o.startup, 3);
    cr_assert_eq(o.gamma, 0.25);
    o = sampler("halton");
    cr_assert_eq(o.kind, SW_SAMPLER_HALTON);
    sw_error e = {0};
    cr_assert_eq(sw_sampler_parse("grid", &o, &e), SW_ERR_INVALID);
    cr_assert(strstr(e.msg, "random, halton or tpe"), "%s", e.msg);
    cr_assert_eq(sw_sampler_parse("tpe:gamma=2", &o, &e), SW_ERR_INVALID);
    cr_assert(strstr(e.msg, "gamma"), "%s", e.msg);
    cr_assert_eq(sw_sampler_parse("random:startup=1", &o, &e), SW_ERR_INVALID);
}

Test(search_sampler, reproducible_and_in_range)
{
    sw_space *sp = space_of(four);
    const char *specs[] = {"random", "halton", "tpe"};
    for (int s = 0; s < 3; s++) {
        sw_sampler_options o = sampler(specs[s]);
        for (uint64_t n = 0; n < 50; n++) {
            double a[4], b[4], c[4];
            cr_assert_eq(sw_sampler_propose(&o, sp, 7, n, NULL, 0, a, NULL), SW_OK);
            cr_assert_eq(sw_sampler_propose(&o, sp, 7, n, NULL, 0, b, NULL), SW_OK);
            cr_assert_eq(sw_sampler_propose(&o, sp, 8, n, NULL, 0, c, NULL), SW_OK);
            cr_assert_eq(memcmp(a, b, sizeof a), 0, "%s: trial %d differs between calls", specs[s], (int)n);
            cr_assert_neq(memcmp(a, c, sizeof a), 0, "%s: another seed, another point", specs[s]);
            for (int j = 0; j < 4; j++) cr_assert(a[j] >= 0 && a[j] < 1, "%s: %g out of [0,1)", specs[s], a[j]);
        }
    }
    sw_space_free(sp);
}

/* The first b^m points of a base-b coordinate fill the b^m intervals
 * [k/b^m, (k+1)/b^m) exactly once each, for every seed. */
Test(search_sampler, halton_fills_every_elementary_interval_once)
{
    const struct { size_t dim; unsigned base, m; } cases[] = {{0, 2, 7}, {1, 3, 4}, {2, 5, 3}, {5, 13, 2}};
    for (uint64_t seed = 1; seed <= 3; seed++)
        for (size_t c = 0; c < 4; c++) {
            size_t cells = 1;
            for (unsigned k = 0; k < cases[c].m; k++) cells *= cases[c].base;
            unsigned char *hit = calloc(cells, 1);
            for (size_t n = 0; n < cells; n++) {
                double p[8];
                cr_assert_eq(sw_halton_point(seed, n, 8, p, NULL), SW_OK);
                size_t k = (size_t)(p[cases[c].dim] * (double)cells);
                cr_assert_lt(k, cells);
                cr_assert_eq(hit[k], 0, "seed %d base %u: interval %zu hit twice", (int)seed, cases[c].base, k);
                hit[k] = 1;
            }
            free(hit);
        }
    /* and the plain sequence's corner is gone: point 0 is not 0 */
    double p[2];
    sw_halton_point(1, 0, 2, p, NULL);
    cr_assert(p[0] > 0 && p[1] > 0);
}

/* Warnock's closed form of the L2-star discrepancy of n points in [0,1)^d:
 *   D^2 = 3^-d - 2^(1-d)/n sum_i prod_k (1 - x_ik^2)
 *         + 1/n^2 sum_i sum_j prod_k (1 - max(x_ik, x_jk)) */
static double l2_star(const double *x, size_t n, size_t d)
{
    double a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        double p = 1;
        for (size_t k = 0; k < d; k++) p *= 1 - x[i * d + k] * x[i * d + k];
        a += p;
        for (size_t j = 0; j < n; j++) {
            double q = 1;
            for (size_t k = 0; k < d; k++) q *= 1 - fmax(x[i * d + k], x[j * d + k]);
            b += q;
        }
    }
    return sqrt(pow(3, -(double)d) - pow(2, 1 - (double)d) / (double)n * a + b / ((double)n * (double)n));
}

Test(search_sampler, halton_has_lower_discrepancy_than_random)
{
    sw_space *sp = space_of(four);
    enum { N = 128, D = 4 };
    static double x[N * D];
    sw_sampler_options h = sampler("halton"), r = sampler("random");
    for (uint64_t seed = 1; seed <= 5; seed++) {
        for (size_t n = 0; n < N; n++) sw_sampler_propose(&h, sp, seed, n, NULL, 0, x + n * D, NULL);
        double dh = l2_star(x, N, D);
        double dr = 0;
        for (uint64_t rs = 0; rs < 10; rs++) {
            for (size_t n = 0; n < N; n++) sw_sampler_propose(&r, sp, seed * 100 + rs, n, NULL, 0, x + n * D, NULL);
            dr += l2_star(x, N, D) / 10;
        }
        /* random points: about sqrt((2^-d - 3^-d)/n) = 0.0220; Halton much less */
        cr_assert_lt(dh, 0.5 * dr, "seed %d: Halton %g against random %g", (int)seed, dh, dr);
    }
    sw_space_free(sp);
}

/* A history whose good trials sit near a = 0.2 (and choice item 1): TPE's
 * proposals go there, random's do not. */
Test(search_sampler, tpe_moves_towards_the_good_trials)
{
    sw_space *sp = space_of("data = x\na = range(0, 1)\nk = choice(p, q, r)\n");
    enum { H = 40 };
    static double pts[H * 2];
    sw_search_obs hist[H];
    for (size_t i = 0; i < H; i++) {
        double a = (double)i / H;
        pts[2 * i] = a;
        pts[2 * i + 1] = ((double)(i % 3) + 0.5) / 3;
        /* score peaks at a = 0.2, and item q (index 1) adds to it */
        hist[i] = (sw_search_obs){pts + 2 * i, 100 - 200 * fabs(a - 0.2) + (i % 3 == 1 ? 30 : 0)};
    }
    sw_sampler_options o = sampler("tpe");
    double sum = 0;
    int near = 0, item_q = 0;
    for (uint64_t n = 0; n < 40; n++) {
        double p[2];
        cr_assert_eq(sw_sampler_propose(&o, sp, 3, 100 + n, hist, H, p, NULL), SW_OK);
        sum += p[0];
        near += fabs(p[0] - 0.2) < 0.15;
        item_q += (int)(p[1] * 3) == 1;
    }
    cr_assert_lt(fabs(sum / 40 - 0.2), 0.1, "mean proposal %g, the good region is at 0.2", sum / 40);
    cr_assert_geq(near, 28, "%d of 40 proposals within 0.15 of 0.2", near);
    cr_assert_geq(item_q, 28, "%d of 40 proposals took the good item", item_q);
    /* the same history and trial number give the same proposal */
    double p1[2], p2[2];
    sw_sampler_propose(&o, sp, 3, 7, hist, H, p1, NULL);
    sw_sampler_propose(&o, sp, 3, 7, hist, H, p2, NULL);
    cr_assert_eq(memcmp(p1, p2, sizeof p1), 0);
    sw_space_free(sp);
}

Test(search_sampler, tpe_starts_with_halton)
{
    sw_space *sp = space_of(four);
    sw_sampler_options o = sampler("tpe:startup=5");
    double pts[4 * 4];
    sw_search_obs hist[4];
    for (int i = 0; i < 4; i++) {
        sw_halton_point(2, (uint64_t)i, 4, pts + 4 * i, NULL);
        hist[i] = (sw_search_obs){pts + 4 * i, i};
    }
    double p[4], h[4];
    sw_sampler_propose(&o, sp, 2, 4, hist, 4, p, NULL);
    sw_halton_point(2, 4, 4, h, NULL);
    cr_assert_eq(memcmp(p, h, sizeof p), 0, "4 finished trials < startup 5: Halton's point");
    sw_space_free(sp);
}

Test(search_sampler, scores_rank_depth_first)
{
    cr_assert_gt(sw_search_score(2, 0), sw_search_score(1, 100));
    cr_assert_gt(sw_search_score(1, 50), sw_search_score(1, 40));
    cr_assert_lt(sw_search_score(1, NAN), sw_search_score(1, 0));
}
