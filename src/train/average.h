/* Weight averaging kept beside the raw weights during training, private to
 * train/: an exponential moving average (EMA) updated after every optimizer
 * step, or a latest-k average (LAWA, Kaddour 2022: the mean of the last k
 * checkpoints taken at evaluation points). Neither costs training tokens; an
 * evaluation scores the raw and the averaged weights on the same examples and
 * the run keeps whichever is better.
 *
 *   EMA:  a_t = d_t a_{t-1} + (1 - d_t) w_t,  d_t = min(decay, (1 + t) / (10 + t))
 *         (t = optimizer steps; the second term is TensorFlow's num_updates
 *         warm-up, so early averages do not drag the initialisation along)
 *   LAWA: a = (1/m) sum of the last m <= k snapshots w_{e-m+1..e}, one per evaluation
 *
 * Memory: EMA one more copy of the parameters; LAWA k + 1 copies. */
#ifndef SW_TRAIN_AVERAGE_H
#define SW_TRAIN_AVERAGE_H

#include "stopwise/base.h"

#include <stddef.h>
#include <stdint.h>

typedef enum sw_average_kind { SW_AVERAGE_NONE = 0, SW_AVERAGE_EMA, SW_AVERAGE_LAWA } sw_average_kind;

typedef struct sw_average_spec {
    sw_average_kind kind;
    double decay; /* EMA, in (0, 1); default 0.999 */
    int k;        /* LAWA snapshots, 2..64; default 5 */
} sw_average_spec;

/* Parses "none", "ema[:decay=D]" or "lawa[:k=K]" (SW_ERR_INVALID naming what
 * was expected). NULL or "" is none. */
sw_status sw_average_spec_parse(const char *text, sw_average_spec *out, sw_error *err);
/* The canonical text of a spec into buf ("none", "ema:decay=0.999", "lawa:k=5"). */
const char *sw_average_spec_format(const sw_average_spec *s, char *buf, size_t len);
/* "raw", "ema" or "lawa": the name of a weight set in curve columns and JSON. */
const char *sw_average_name(sw_average_kind kind);

typedef struct sw_average {
    sw_average_spec spec;
    size_t n;          /* parameters */
    float *avg;        /* (n) EMA: the running average; LAWA: the mean, built at a swap */
    float *ring;       /* (k, n) LAWA snapshots */
    uint64_t updates;  /* EMA steps / LAWA snapshots taken */
    int swapped;       /* 1 while the model holds the average */
} sw_average;

/* Allocates the average of n parameters starting from params (owned by the
 * average; release with sw_average_free). With kind none nothing is
 * allocated and every other call is a no-op. */
sw_status sw_average_init(sw_average *a, const sw_average_spec *spec, const float *params, size_t n, sw_error *err);
void sw_average_free(sw_average *a);
static inline int sw_average_on(const sw_average *a) { return a->spec.kind != SW_AVERAGE_NONE; }
/* After each optimizer step (EMA). */
void sw_average_step(sw_average *a, const float *params);
/* At each evaluation point, before it is evaluated (LAWA takes a snapshot). */
void sw_average_snapshot(sw_average *a, const float *params);
/* Exchanges the model's parameters with the average, element by element (no
 * third copy): call once to evaluate or save the average, again to restore. */
void sw_average_swap(sw_average *a, float *params);

/* The state a resumable checkpoint keeps: a flat array (EMA: n floats; LAWA:
 * k x n) and its count; `updates` goes into the train_state JSON. */
float *sw_average_state(sw_average *a, size_t *count);

#endif
