/* An evaluation result as JSON (train.h). */
#include "stopwise/train.h"
#include "data/json_num.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

/* Non-finite numbers print as null (sw_json_num), as in every JSON stopwise prints. */
char *sw_eval_result_json(const sw_eval_result *r, const char *split)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "em", sw_json_num(r->em));
    json_object_set_new(o, "n", json_integer((json_int_t)r->n));
    json_object_set_new(o, "correct", json_integer((json_int_t)r->correct));
    json_object_set_new(o, "loss", sw_json_num(r->loss));
    json_object_set_new(o, "split", json_string(split));
    if (r->per >= 0) json_object_set_new(o, "per", sw_json_num(r->per));
    if (r->em_published >= 0) json_object_set_new(o, "em_published", sw_json_num(r->em_published));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}
