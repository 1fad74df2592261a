/* nn/ private: the units structured pruning removes whole, described as runs
 * of entries in the parameter buffer, so that scoring, masking and the
 * zero test are one loop for every kind of unit (prune_units.c):
 *   mlp hidden neuron u of layer i: row u of fc.i.w and fc.i.b[u] (in),
 *                                    column u of fc.(i+1).w (out)
 *   gpt feed-forward neuron u:       row u of h.l.mlp.fc.w and h.l.mlp.fc.b[u] (in),
 *                                    column u of h.l.mlp.proj.w (out)
 *   gpt head h (width hs, A = NH hs): rows h hs .. h hs + hs - 1 of the q, k and v
 *                                    blocks of h.l.attn.qkv.w and .b (v in, q k
 *                                    masked only), columns h hs .. of h.l.attn.proj.w (out) */
#ifndef SW_NN_PRUNE_UNITS_H
#define SW_NN_PRUNE_UNITS_H

#include "stopwise/nn.h"

typedef enum sw_unit_role {
    SW_UNIT_ONLY_MASKED = 0, /* pruned with the unit, not scored (a head's q and k) */
    SW_UNIT_IN,              /* zero -> the unit outputs exactly 0                */
    SW_UNIT_OUT              /* zero -> the unit's output reaches nothing         */
} sw_unit_role;

/* Unit u's entries of one block: `count` runs of `len` floats, `stride`
 * apart, starting at offset + u * ustep. */
typedef struct sw_unit_block {
    size_t offset, ustep, count, stride, len;
    sw_unit_role role;
} sw_unit_block;

#define SW_UNIT_MAX_BLOCKS 7

/* One layer of units: `units` of them, each made of the same blocks. */
typedef struct sw_unit_layer {
    int units;
    int n_blocks;
    sw_unit_block blocks[SW_UNIT_MAX_BLOCKS];
} sw_unit_layer;

/* The layers of units of `kind` (neurons or heads) in m: *layers malloc'd
 * (caller frees), *n of them; *n = 0 when the model has none of that kind
 * (heads in an mlp, neurons in an mlp without hidden layers). */
sw_status sw_unit_layers(const sw_model *m, sw_prune_kind kind, sw_unit_layer **layers, int *n);
/* s_u = ||in_u||_2 x ||out_u||_2 over params (in double, in a fixed order). */
double sw_unit_score(const sw_unit_layer *l, const float *params, int u);
/* 1 when unit u computes exactly nothing: all its `in` entries are zero, or
 * all its `out` entries are. */
int sw_unit_is_dead(const sw_unit_layer *l, const float *params, int u);
/* Zeroes unit u's entries (every block) in a float buffer, or in a byte mask. */
void sw_unit_zero(const sw_unit_layer *l, int u, float *buf);
void sw_unit_unmask(const sw_unit_layer *l, int u, uint8_t *mask);
/* The range [*lo, *hi) of the parameter buffer the layer's units touch. */
void sw_unit_span(const sw_unit_layer *l, size_t *lo, size_t *hi);
/* The indices of the k lowest-scoring units among those with alive[u] = 1
 * (ties by index), into out (k entries); scores from params. SW_ERR_NOMEM
 * when its scratch cannot be allocated. */
sw_status sw_unit_lowest(const sw_unit_layer *l, const float *params, const uint8_t *alive, int k, int *out);

#endif
