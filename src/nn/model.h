/* nn/ private: the model handle shared by model.c (the generic part: buffers,
 * tensor table, errors, dispatch) and the two kinds, gpt.c and mlp.c. */
#ifndef SW_NN_MODEL_H
#define SW_NN_MODEL_H

#include "stopwise/nn.h"

struct sw_model {
    sw_model_spec spec;
    size_t n_params;
    float *params;  /* (n_params) one allocation, layout = the tensor table   */
    float *grads;   /* (n_params) same layout                                 */
    int n_tensors;
    size_t cap_tensors;
    sw_tensor_info *tensors; /* names point into `names` below               */
    char *names;             /* all tensor names, NUL-separated, owned        */
    size_t names_len, names_cap;
    char errmsg[512];        /* last error of forward/backward/generate       */
    int can_backward;        /* the last forward was a training one           */
    const float *logits;     /* of the last forward                           */
    void *impl;              /* struct sw_gpt / struct sw_mlp                 */
};

/* Appends a tensor of the given shape at the end of the layout; returns
 * SW_OK or SW_ERR_NOMEM. Called only while building a model. */
sw_status sw_model_add_tensor(sw_model *m, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2);
/* Records the handle's last error and returns s. */
sw_status sw_model_fail(sw_model *m, sw_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An aligned (64 B), zeroed allocation of n floats; NULL on failure. Free with free(). */
float *sw_floats_alloc(size_t n);

/* the kinds: build fills the tensor table (layout) and allocates `impl`;
 * init writes the initial parameters once model.c allocated the buffers. */
sw_status sw_gpt_build(sw_model *m);
void sw_gpt_init(sw_model *m, uint64_t seed);
sw_status sw_gpt_forward(sw_model *m, const sw_batch *b, int training, float *loss);
sw_status sw_gpt_backward(sw_model *m);
void sw_gpt_free(sw_model *m);

sw_status sw_mlp_build(sw_model *m);
void sw_mlp_init(sw_model *m, uint64_t seed);
sw_status sw_mlp_forward(sw_model *m, const sw_batch *b, int training, float *loss);
sw_status sw_mlp_backward(sw_model *m);
void sw_mlp_free(sw_model *m);

#endif
