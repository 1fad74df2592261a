/* The options eval and predict share for ensembles and beam search
 * (docs/ENSEMBLES.md): which checkpoints answer, and how sequences decode. */
#ifndef SW_CLI_ENSEMBLE_OPTIONS_H
#define SW_CLI_ENSEMBLE_OPTIONS_H

#include "cli/options.h"
#include "stopwise/nn.h"

/* Entries of a command's option table (first in it: --model leads the usage). */
#define SW_CLI_ENSEMBLE_OPTIONS                                                                            \
    {"model", SW_CLI_LIST, "CKPT...", NULL,                                                                \
     "a checkpoint written by stopwise train (.safetensors); several (--model a b c, a\n"                 \
     "shell glob, or --model repeated) answer as one ensemble: the mean of their class\n"                 \
     "probabilities, or of their next-symbol distributions at every decoding step.\n"                     \
     "Members must share the vocabulary or labels (else exit 2 naming the difference)"},                  \
        {"snapshots", SW_CLI_STRING, "DIR", NULL,                                                          \
         "add a run folder's checkpoints to the ensemble: its snapshot-*.safetensors\n"                   \
         "(train --snapshots K), best.safetensors and last.safetensors, repeats left out"},               \
        {"top-k", SW_CLI_INT, "K", NULL,                                                                   \
         "add the K best runs of --task in --store: finished runs with a checkpoint on\n"                 \
         "disk, ranked by the validation EM of their kept checkpoint (never by test EM)"},               \
        {"task", SW_CLI_STRING, "NAME", NULL, "with --top-k: the runs' task, as `runs ls --task` shows it"}, \
        {"store", SW_CLI_STRING, "PATH|URL", "$STOPWISE_STORE or ./stopwise.db", "with --top-k: the store"}, \
        {"beam", SW_CLI_INT, "K", "1",                                                                     \
         "sequence models: beam search of width K (1: greedy, token for token). The answer\n"             \
         "is the finished hypothesis with the best logP(y) / ((5 + |y|) / 6)^alpha"},                    \
    {                                                                                                      \
        "alpha", SW_CLI_DOUBLE, "A", "0.6",                                                                \
            "with --beam: length normalisation (GNMT's, Wu et al. 2016); 0: raw logP,\n"                  \
            "which favours short answers; |y| counts the end token"                                        \
    }

/* The members the options name (--model's, then --snapshots', then
 * --top-k's) into *paths (free with sw_paths_free) and *n, and the decoding
 * into *dec. Returns -1 when they are usable, else an exit code after a
 * message on stderr. */
int sw_cli_ensemble_members(const sw_cli_args *a, const char *cmd, char ***paths, int *n, sw_decode_params *dec);

/* 1 when the options leave one checkpoint decoded greedily: the command's
 * single-model path answers exactly as it always did. */
int sw_cli_ensemble_is_single(int n, const sw_decode_params *dec);

#endif
