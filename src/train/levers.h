/* The data levers of a run, private to train/ (docs/LEVERS.md): which
 * training examples it keeps (--dedupe, --subsample), how their features vary
 * (--augment) and in which order they come (--curriculum). The trainer calls
 * setup once the model spec is complete and before its batcher is made,
 * attach right after, config when it writes the run's settings, free at
 * teardown. With none of them on, nothing changes: no probe, no file, no key. */
#ifndef SW_TRAIN_LEVERS_H
#define SW_TRAIN_LEVERS_H

#include "stopwise/nn.h"

struct sw_trainer;

/* Parses the specs (SW_ERR_INVALID), removes duplicates, runs the probe when a
 * score is needed (probe.h), restricts the training split to the selection and
 * writes it to the run folder as split.tsv (sw_dataset_write_split); fills the
 * result's train_examples, duplicates, probe_tokens and train_fingerprint. */
sw_status sw_trainer_levers_setup(struct sw_trainer *r, const sw_model_spec *spec, const sw_optimizer_params *op);
/* Gives the batcher its augmentation and curriculum (paced on r->tokens). */
sw_status sw_trainer_levers_attach(struct sw_trainer *r);
/* Adds the levers' keys to the run's settings (a json_t object); none when off. */
void sw_trainer_levers_config(const struct sw_trainer *r, void *config);
void sw_trainer_levers_free(struct sw_trainer *r);

#endif
