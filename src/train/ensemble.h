/* train/ private: an ensemble of checkpoints (ensemble.c, ensemble_eval.c,
 * ensemble_members.c; docs/ENSEMBLES.md). */
#ifndef SW_TRAIN_ENSEMBLE_H
#define SW_TRAIN_ENSEMBLE_H

#include "stopwise/train.h"

struct sw_ensemble {
    int n;                 /* members                                            */
    sw_checkpoint *ckpt;   /* (n) owned; each holds its model                    */
    sw_model **models;     /* (n) ckpt[i].model                                  */
    char **paths;          /* (n) where each came from, for messages             */
    int sequence;          /* 1: gpts sharing `vocab`; 0: classifiers sharing `classes` */
    sw_vocab *vocab;       /* member 0's, which every member equals              */
    sw_classes *classes;
    uint8_t *allowed;      /* (V) what a sequence model may generate: targets and EOS */
};

/* The smallest context length among the members (sequence ensembles). */
int sw_ensemble_ctx(const sw_ensemble *e);
/* The index of the largest of n values (the first on ties). */
int sw_argmax_double(const double *p, int n);

#endif
