/* Training progress on stderr: a one-line bar redrawn in place when stderr is
 * a terminal, plain lines at each evaluation when it is not. */
#ifndef SW_CLI_PROGRESS_H
#define SW_CLI_PROGRESS_H

#include "stopwise/train.h"

typedef struct sw_cli_progress {
    int tty;   /* stderr is a terminal */
    int quiet; /* print nothing */
    int drawn; /* a bar is on screen (needs a newline before other output) */
} sw_cli_progress;

void sw_cli_progress_init(sw_cli_progress *p, int quiet);
/* An sw_train_progress_fn; user_data is an sw_cli_progress. */
void sw_cli_progress_update(const sw_train_progress *tp, void *user_data);
/* Ends the bar's line, if one is drawn. */
void sw_cli_progress_done(sw_cli_progress *p);

#endif
