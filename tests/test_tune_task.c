/* tune/: task keys name the schedule kind and the evaluation cadence, so a
 * policy tuned on wsd trunks (or at one cadence) is only found by runs of the
 * same kind and cadence; `train --stop auto` falls back otherwise. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "stopwise/tune.h"
#include "support.h"
#include "train/defaults.h"

static const char *key_of(const char *model, uint64_t budget, const char *schedule, uint64_t every)
{
    static char key[512];
    sw_error e = {0};
    cr_assert_eq(sw_tune_task_key("cmudict", model, budget, schedule, every, key, sizeof key, &e), SW_OK, "%s", e.msg);
    return key;
}

Test(tune_task, key_names_schedule_and_cadence)
{
    cr_assert_str_eq(key_of(NULL, 2000000, NULL, 0), "cmudict|default|2M|wsd|every=20k");
    cr_assert_str_eq(key_of(NULL, 2000000, "wsd:lr=2e-3", 0), "cmudict|default|2M|wsd|every=20k");
    cr_assert_str_eq(key_of(NULL, 2000000, "wsd:lr=2e-3,decay=0.1", 50000), "cmudict|default|2M|wsd|every=50k");
    /* the rate is not part of the key; the kind and the cadence are */
    char a[512];
    snprintf(a, sizeof a, "%s", key_of(NULL, 2000000, "wsd:lr=1e-3", 0));
    cr_assert_str_eq(a, key_of(NULL, 2000000, "wsd:lr=3e-3,min=0.1", 0));
    cr_assert_str_neq(a, key_of(NULL, 2000000, "cosine:lr=1e-3", 0));
    cr_assert_str_neq(a, key_of(NULL, 2000000, "wsd:lr=1e-3", 40000));
    cr_assert_str_eq(key_of(NULL, 2000000, NULL, 20000), key_of(NULL, 2000000, "wsd:lr=2e-3", 0),
                     "the default schedule is a wsd at budget/100");
    cr_assert(strstr(key_of("gpt:layers=2", 1000000, NULL, 0), "|gpt:layers=2,"), "canonical model spec");
    char small[16];
    sw_error e = {0};
    cr_assert_eq(sw_tune_task_key("cmudict", NULL, 1000, "magic:lr=1", 0, a, sizeof a, &e), SW_ERR_INVALID);
    cr_assert(strstr(e.msg, "magic"), "%s", e.msg);
    cr_assert_eq(sw_tune_task_key("cmudict", NULL, 1000, NULL, 0, small, sizeof small, &e), SW_ERR_INVALID);
}

/* The key's default kind is what the trainer really uses without --schedule. */
Test(tune_task, default_schedules_are_wsd)
{
    sw_task_defaults d;
    sw_task_kind kinds[] = {SW_TASK_SEQUENCE, SW_TASK_CLASSIFY};
    for (int i = 0; i < 2; i++) {
        sw_train_task_defaults(kinds[i], &d);
        cr_assert(!strncmp(d.schedule, "wsd:", 4), "%s", d.schedule);
        sw_schedule s;
        sw_error e = {0};
        cr_assert_eq(sw_schedule_parse(d.schedule, &s, &e), SW_OK, "%s", e.msg);
        /* the anneal sits at the end of the budget: stable until 80%, floor at 100% */
        s.total = 1000000;
        cr_assert_float_eq(sw_schedule_lr(&s, 790000), s.lr, 1e-12);
        cr_assert_float_eq(sw_schedule_lr(&s, 1000000), s.lr * s.min_frac, 1e-12);
        cr_assert(s.min_frac > 0, "a floor above zero");
    }
}

/* A policy tuned on wsd curves is found by a wsd run, not by a cosine run of
 * the same task (which gets the conservative default and says so). */
Test(tune_task, stop_auto_finds_the_wsd_policy_only_for_wsd)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/s.db", sw_test_tmpdir());
    sw_store *st;
    sw_error e = {0};
    cr_assert_eq(sw_store_open(path, &st, &e), SW_OK, "%s", e.msg);
    char wsd[512], cos[512], pol[512], why[1024];
    snprintf(wsd, sizeof wsd, "%s", key_of(NULL, 2000000, "wsd:lr=2e-3", 0));
    snprintf(cos, sizeof cos, "%s", key_of(NULL, 2000000, "cosine", 0));
    cr_assert_eq(sw_store_policy_put(st, wsd, "patience=4,diverge", "{}"), SW_OK);
    int tuned = -1;
    cr_assert_eq(sw_tune_policy_for_task(st, wsd, 2000000, pol, sizeof pol, why, sizeof why, &tuned, &e), SW_OK);
    cr_assert_eq(tuned, 1);
    cr_assert_str_eq(pol, "patience=4,diverge");
    cr_assert_eq(sw_tune_policy_for_task(st, cos, 2000000, pol, sizeof pol, why, sizeof why, &tuned, &e), SW_OK);
    cr_assert_eq(tuned, 0);
    cr_assert(strstr(why, "no tuned policy") && strstr(why, "|cosine|"), "%s", why);
    sw_store_close(st);
}
