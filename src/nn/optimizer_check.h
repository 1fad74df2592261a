/* Private to nn/: the optimizer's range checks, shared by create and parse. */
#ifndef SW_NN_OPTIMIZER_CHECK_H
#define SW_NN_OPTIMIZER_CHECK_H
#include "stopwise/nn.h"
/* SW_OK, or SW_ERR_INVALID with a message "optimizer: <what is wrong>". */
sw_status sw_optimizer_params_check(const sw_optimizer_params *p, sw_error *err);
#endif
