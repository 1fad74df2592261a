/* train/ private: scoring cmudict's lexicon form also in the published form
 * (no stress, ax = ah; sw_phones_published), for the single-model
 * evaluation (eval.c) and the ensemble's (ensemble_eval.c) alike. */
#ifndef SW_TRAIN_PUBLISHED_H
#define SW_TRAIN_PUBLISHED_H

#include "stopwise/data.h"

/* Whether answers on this data set are also scored in the published form:
 * cmudict, unless it was loaded in that form already ("+published"). */
int sw_eval_published(const sw_dataset *ds);

/* 1 if the answer (target ids, no EOS) to example i of a split, mapped to
 * the published form, equals one of its references mapped the same way. */
int sw_score_published(const sw_dataset *ds, sw_split split, size_t i, const int32_t *answer, int len);

#endif
