/* stopwise train: trains a model on a dataset, evaluating EM as it goes and
 * stopping by a policy. The work is sw_train's; this file parses options,
 * shows progress and prints the result. */
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "cli/branch_options.h"
#include "stopwise/stop.h"
#include "stopwise/store.h"
#include "stopwise/train.h"
#include "stopwise/tune.h"
#include "data/json_num.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const sw_cli_option options[] = {
    {"data", SW_CLI_STRING, "SPEC", NULL,
     "dataset: cmudict[:PATH], fashion-mnist[:DIR], tsv:PATH, jsonl:PATH,\ncsv:PATH, idx:IMAGES,LABELS, synthetic:NAME[:n=..,len=..]"},
    {"model", SW_CLI_STRING, "SPEC", "per task",
     "gpt:layers=4,d=128,heads=4,dropout=0.1 for sequences;\nmlp:hidden=256,act=relu,dropout=0.2 for classification"},
    {"budget", SW_CLI_TOKENS, "TOKENS", "auto",
     "training tokens (k, M, G suffixes); auto: 50 epochs of the training split,\n"
     "at most 20M (Fashion-MNIST 2.7M, cmudict 20M)"},
    {"stop", SW_CLI_STRING, "POLICY", "auto",
     "stopping policy, e.g. patience=5:min_delta=0.1,gain=0.2,diverge,warmup=1M\n"
     "(see docs/STOPPING.md); none trains the whole budget; auto uses the policy\n"
     "`stopwise tune` stored for this task (data, model, budget, schedule kind,\n"
     "evaluation cadence: e.g. cmudict|default|2M|wsd|every=20k), else the\n"
     "conservative default patience=10,diverge,warmup=budget/10"},
    {"online", SW_CLI_FLAG, NULL, NULL,
     "with --stop auto: production retraining; every --audit-every'th run trains\n"
     "the whole budget and audits the policy, which moves toward more aggressive\n"
     "thresholds while audited EM losses stay within --epsilon (docs/TUNING.md)"},
    {"audit-every", SW_CLI_INT, "N", "4", "with --online: one run in N is an audit"},
    {"epsilon", SW_CLI_DOUBLE, "POINTS", "0.5", "with --online: the EM loss an audit tolerates"},
    {"cooldown", SW_CLI_DOUBLE, "FRAC", "0.1",
     "under a wsd schedule (the default): at a stop, decay the learning rate to its floor over\n"
     "FRAC x tokens so far, then evaluate once more; never past the budget (a stop\n"
     "at T anneals min(FRAC x T, budget - T) tokens; at the budget, none). A\n"
     "policy's cooldown=C[:shape=S] clause wins"},
    {"cooldown-shape", SW_CLI_STRING, "SHAPE", "linear",
     "the cooldown's decay: linear, or sqrt (1-sqrt: lr - (lr - floor) sqrt(x))"},
    {"forks", SW_CLI_INT, "N", "0",
     "a trunk with cooldown branches (needs a wsd schedule, held at its constant rate):\n"
     "at every budget/N tokens, branches fork from the trunk's exact state, anneal for\n"
     "c x tokens so far, and are evaluated once (curve.csv's val_em_annealed:c=..:shape=..\n"
     "columns; branch runs in the store); the trunk goes on unchanged"},
    {"branch-cooldowns", SW_CLI_STRING, "LIST", "0.1", "with --forks: the cooldown fractions c, e.g. 0.05,0.1,0.2"},
    {"branch-shapes", SW_CLI_STRING, "LIST", "linear", "with --forks: the decay shapes, linear and/or sqrt"},
    {"eval-every", SW_CLI_TOKENS, "TOKENS", "auto",
     "tokens between validation evaluations; auto: budget/100, or longer when\n"
     "evaluation would take more than --eval-share of the wall time (below)"},
    {"eval-limit", SW_CLI_INT, "N", "auto",
     "examples of the validation split's select half each evaluation reads (a\n"
     "fixed seeded sample); auto sizes it with the cadence from the measured\n"
     "costs (below)"},
    {"eval-test", SW_CLI_STRING, "N|all", "0",
     "benchmarks: also score N test examples (a fixed seeded sample) at every\n"
     "evaluation and branch, as curve.csv's test_em; nothing reads it to decide"},
    {"eval-share", SW_CLI_DOUBLE, "S", "0.1",
     "the share of wall time automatic sizing lets evaluation take, the final\n"
     "report included"},
    {"final-limit", SW_CLI_STRING, "N|all|auto", "auto",
     "examples per split the final report reads on the score half and the test\n"
     "split (a fixed seeded sample; the test EM then carries a standard error);\n"
     "auto: whole splits unless they would cost more than a quarter of the\n"
     "evaluation share (a huge lexicon), then a sample of at least 2000"},
    {"confirm", SW_CLI_DOUBLE, "ALPHA", "0.05",
     "before a no-gain rule stops the run, compare the current weights with the\n"
     "best checkpoint on a 4x larger sample (paired sign test); a gain\n"
     "significant at ALPHA refutes the stop and training continues; 0: off"},
    {"average", SW_CLI_STRING, "SPEC", "none",
     "weight average kept beside the raw weights and evaluated with them (the\n"
     "better is used): none, ema[:decay=0.999] or lawa[:k=5] (the mean of the\n"
     "last k evaluation points' weights)"},
    {"batch", SW_CLI_INT, "N", "per task", "examples per step (64 sequences, 128 tabular)"},
    {"batch-ramp", SW_CLI_STRING, "SPEC", NULL,
     "grow the batch with the tokens instead of --batch: from=N,to=N[,over=0.3 |\n"
     "over_tokens=T][,scale=sqrt|linear|none][,ref=N]. B(t) = from + u floor(((to-from)/u)\n"
     "t/R) for t < R = over x budget, then to (u = gcd(from, to)); each step's rate is\n"
     "the schedule's x sqrt(B/ref) (scale=linear: B/ref); ref: the batch the rate is\n"
     "for, unless given the task's default (64 sequences, 128 tabular; docs/BATCH.md)"},
    {"optimizer", SW_CLI_STRING, "SPEC", "per task",
     "adamw[:beta1=0.9,beta2=0.95,eps=1e-8,wd=..,l1=..,l2=..,clip=..] or\nsgd[:momentum=0.9,nesterov=0|1,wd=..,l1=..,l2=..,clip=..]"},
    {"schedule", SW_CLI_STRING, "SPEC", "per task",
     "learning rate over tokens: constant, warmup, step, cosine, restarts, wsd;\n"
     "default wsd:lr=2e-3,min=0.05,shape=sqrt for sequences, wsd:lr=1e-3,min=0.01,shape=sqrt\n"
     "for classification (stable rate, 1-sqrt decay over the last 20% of the budget), warm-up\n"
     "2% / 1% of the budget; e.g. cosine:lr=2e-3,warmup=100k,min=0.05; a bare kind\n"
     "(cosine) keeps the task default's rate, floor and warm-up"},
    {"seed", SW_CLI_INT, "N", "1", "seed of the initialisation, data order and dropout"},
    {"data-seed", SW_CLI_INT, "N", "1", "seed of the train/validation/test split"},
    {"val-frac", SW_CLI_DOUBLE, "F", "auto", "validation share: 0.05, fashion-mnist 0.1 of its training images"},
    {"test-frac", SW_CLI_DOUBLE, "F", "auto", "test share: 0.05; fashion-mnist keeps its official test set"},
    {"max-examples", SW_CLI_INT, "N", "0", "use a seeded subsample of N examples (0: all)"},
    {"features", SW_CLI_STRING, "FILE|a,b,..", NULL,
     "csv: train on these feature columns alone, in the file's column order: FILE\n"
     "(one name a line, as select-features writes) if it exists, else comma-separated\n"
     "names; an unknown name exits 2. The checkpoint keeps the names, so eval selects\n"
     "them again and predict reads just them (docs/FEATURES.md)"},
    {"published", SW_CLI_FLAG, NULL, NULL, "cmudict: strip stress and map ax to ah (the published form)"},
    {"dedupe", SW_CLI_FLAG, NULL, NULL,
     "remove exact duplicates from the training split (same label and features;\n"
     "sequence examples are unique already), before --subsample (docs/LEVERS.md)"},
    {"subsample", SW_CLI_STRING, "SPEC", "none",
     "train on a seeded selection of the training split, keep fraction F in (0, 1]:\n"
     "F or uniform:keep=F; stratified:keep=F (per class, or per input length; each\n"
     "stratum within one example of F x its size); loss|el2n|forgetting:keep=F\n"
     "[,take=hard|easy|mix,hard=0.5,balance=0|1,probe=TOKENS,points=N]: by a score\n"
     "from a short probe run (probe: budget/10 tokens, not counted in the run's;\n"
     "el2n = |softmax - onehot|, forgetting = right-to-wrong flips over N passes).\n"
     "Recorded in --out DIR/split.tsv; the budget stays the whole split's"},
    {"augment", SW_CLI_STRING, "SPEC", "none",
     "label-preserving augmentation, drawn per (seed, epoch, example):\n"
     "image[:shift=2,flip=0|1] pads and crops back (a random shift of up to P\n"
     "pixels; flip=1 mirrors half the images, only where declared safe:\n"
     "fashion-mnist); noise[:sigma=0.1] adds N(0, (sigma x feature sd)^2).\n"
     "Sequence tasks: none is label-safe (docs/LEVERS.md)"},
    {"curriculum", SW_CLI_STRING, "SPEC", "none",
     "easy examples first: length (sequences: shortest first) or difficulty\n"
     "[:score=loss|el2n|forgetting,probe=TOKENS] (a probe run's score); each batch\n"
     "draws from the easiest c(t) of the examples, c = sqrt(c0^2 + (1 - c0^2) t/(U B))\n"
     "(pace=root; pace=linear: c0 + (1 - c0) t/(U B)) until t = U x budget B, then\n"
     "plain epochs. Options start=c0 (0.1), until=U (0.5)"},
    {"prune", SW_CLI_STRING, "SPEC", "none",
     "gradual pruning on the cubic schedule s(t) = s_f + (s_i - s_f)(1 - (t - t0)/(t1 - t0))^3\n"
     "(Zhu & Gupta 2017), masks recomputed every `every` tokens from t0 = start to t1 = end:\n"
     "magnitude:sparsity=S_F[,initial=S_I] zeroes the smallest |w| of each weight matrix\n"
     "(not embeddings, biases, norms); neurons:keep=K drops whole hidden neurons (mlp,\n"
     "gpt feed-forward), heads:keep=K whole attention heads (gpt), scored per layer by\n"
     "||in|| x ||out||. start, end, every: tokens or % of the budget (10%, 60%, 1%).\n"
     "Pruned weights and their moments stay 0; the best checkpoint is chosen among\n"
     "fully pruned weights; neurons/heads also write --out DIR/pruned.safetensors,\n"
     "the smaller dense model (docs/PRUNING.md). Give --stop a warmup past end"},
    {"init", SW_CLI_STRING, "CKPT", NULL,
     "start from a checkpoint's weights (a warm start, docs/TRANSFER.md): tensors by\n"
     "name; vocabulary symbols and classes mapped by name (new ones get fresh rows,\n"
     "dropped ones are removed), positions by index. --model defaults to the\n"
     "checkpoint's architecture; another architecture exits 2 naming the tensor.\n"
     "The run records the checkpoint's path and SHA-256"},
    {"freeze", SW_CLI_STRING, "PATTERN[@TOKENS],...", NULL,
     "keep the tensors whose names match a glob fixed, bit for bit (no update, no\n"
     "weight decay); PATTERN@TOKENS unfreezes them from then on (h.*@200k). Names:\n"
     "gpt wte, wpe, h.L.ln1.w, h.L.ln1.b, h.L.attn.qkv.w|b, h.L.attn.proj.w|b, h.L.ln2.w|b,\n"
     "h.L.mlp.fc.w|b, h.L.mlp.proj.w|b, lnf.w|b, head.w (untied head); mlp fc.I.w|b;\n"
     "L and I count from 0. E.g. 'wte,wpe,h.0.*@200k' or 'fc.0.*'"},
    {"snapshots", SW_CLI_INT, "K", "0",
     "keep K snapshot checkpoints for a snapshot ensemble (docs/ENSEMBLES.md): the\n"
     "weights after the step crossing each multiple of budget/K, as\n"
     "snapshot-TOKENS.safetensors; with --schedule restarts:period=BUDGET/K these are\n"
     "the cycle ends. eval/predict --snapshots DIR use them. 0: none (1..10000)"},
    {"threads", SW_CLI_INT, "N", "0",
     "threads for the BLAS and our loops; 0: the cores shared out among the stopwise\n"
     "runs of this user at each evaluation (all cores when alone; OMP_NUM_THREADS fixes it)"},
    {"out", SW_CLI_STRING, "DIR", "runs/DATA-TIME",
     "run folder: best.safetensors, last.safetensors, curve.csv, events.jsonl"},
    {"resume", SW_CLI_FLAG, NULL, NULL, "continue the interrupted run in --out DIR from last.safetensors"},
    {"store", SW_CLI_STRING, "PATH|URL", "$STOPWISE_STORE or ./stopwise.db",
     "where the run is recorded: an SQLite file or a postgresql:// URL"},
    {"no-store", SW_CLI_FLAG, NULL, NULL, "do not record the run in a store"},
    {"name", SW_CLI_STRING, "NAME", NULL, "a name for the run in the store"},
    {"stop-after", SW_CLI_TOKENS, "TOKENS", NULL,
     "interrupt after TOKENS, leaving a resumable run (for testing --resume)"},
    {"quiet", SW_CLI_FLAG, NULL, NULL, "no progress on stderr"},
    {"json", SW_CLI_FLAG, NULL, NULL, "print one JSON object with the result on stdout"},
};

static const sw_cli_command command = {
    .name = "train",
    .synopsis = "train a model, evaluating exact match (EM) and stopping by a policy",
    .usage = "stopwise train --data SPEC [--model SPEC] [--budget auto] [--stop auto] [options]",
    .details =
        "Tokens: a sequence example `input SEP target EOS` costs len(input)+1+len(target)\n"
        "tokens (the positions fed); a tabular example costs 1. EM is the percentage of\n"
        "examples whose whole predicted answer equals a reference (any of them).\n"
        "The run reports the best checkpoint's validation and test EM.\n"
        "Evaluation: the validation split is cut into a select half (read by checkpoint\n"
        "choice and stopping rules) and a score half (read only by the final report).\n"
        "Each evaluation reads a fixed seeded sample of n select examples every E\n"
        "tokens. Unless given, with s = --eval-share, c_tok = measured seconds per\n"
        "training token, c_ex = seconds per evaluated example and weight set, w = 2\n"
        "with --average else 1, B = budget:\n"
        "  n = floor(s/(1-s) x (B/100) x c_tok / (w x c_ex)), at least min(500, select half)\n"
        "  E = max(B/100, (1-s)/s x n x w x c_ex / c_tok), at most B/10\n"
        "measured once, at the first evaluation point (docs/TRAINING.md).\n"
        "Data-parallel: mpirun -np N stopwise train ... trains one model on N processes\n"
        "(a build with MPI, STOPWISE_MPI). Each takes batch/N rows of every step (N must\n"
        "divide --batch), the gradients are summed over the processes, and the run equals\n"
        "one process with the same --batch up to float rounding. Rank 0 alone evaluates,\n"
        "stops, writes --out and the store and prints; tokens count the whole batch.\n"
        "Give each rank its cores: --threads 1 with N = cores, or OMP_NUM_THREADS. As root,\n"
        "mpirun needs --allow-run-as-root; on one machine add --oversubscribe past the core\n"
        "count. --resume works under mpirun with the same N; --forks and --online do not\n"
        "(docs/SCALING.md: when data-parallel pays).\n"
        "Exit codes: 0 success (completed, stopped or diverged), 1 failure, 2 bad input.",
    .options = options,
    .n_options = (int)(sizeof options / sizeof *options),
    .min_positional = 0,
    .max_positional = 0,
};

/* null for NaN and infinities (sw_json_num; docs/ARCHITECTURE.md) */
static void print_json(const sw_train_result *r, const char *policy, const char *auto_why, int audit)
{
    json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:I, s:o, s:I}",
                          "run_id", (json_int_t)r->run_id, "status", r->status, "tokens", (json_int_t)r->tokens,
                          "best_tokens", (json_int_t)r->best_tokens, "budget", (json_int_t)r->budget,
                          "saved_tokens", (json_int_t)(r->budget > r->tokens ? r->budget - r->tokens : 0),
                          "val_em", sw_json_num(r->val_em), "test_em", sw_json_num(r->test_em), "wall_s", sw_json_num(r->wall_s), "checkpoint",
                          r->checkpoint, "stop_rule", r->stop_rule, "stop_reason", r->stop_reason, "model",
                          r->model_spec, "cooldown_tokens", (json_int_t)r->cooldown_tokens, "best_val_em",
                          sw_json_num(r->best_val_em), "evaluations", (json_int_t)r->evaluations);
    json_object_set_new(o, "policy", json_string(policy ? policy : "none"));
    if (auto_why) {
        json_object_set_new(o, "auto", json_string(auto_why));
        json_object_set_new(o, "audit", json_boolean(audit));
    }
    json_object_set_new(o, "eval_s", sw_json_num(r->eval_s));
    json_object_set_new(o, "eval_share", sw_json_num(r->wall_s > 0 ? r->eval_s / r->wall_s : 0));
    json_object_set_new(o, "eval_every", json_integer((json_int_t)r->eval_every));
    json_object_set_new(o, "eval_sample", json_integer((json_int_t)r->eval_sample));
    json_object_set_new(o, "confirmations", json_integer((json_int_t)r->confirmations));
    json_object_set_new(o, "refuted_stops", json_integer((json_int_t)r->vetoes));
    json_object_set_new(o, "weights", json_string(r->weights));
    json_object_set_new(o, "select_em", sw_json_num(r->select_em));
    json_object_set_new(o, "score_em", sw_json_num(r->score_em));
    /* null: the final report read the whole splits */
    json_object_set_new(o, "final_sample", r->final_sample ? json_integer((json_int_t)r->final_sample) : json_null());
    json_object_set_new(o, "test_se", sw_json_num(r->test_se));
    if (r->branches) {
        json_object_set_new(o, "branches", json_integer((json_int_t)r->branches));
        json_object_set_new(o, "branch_tokens", json_integer((json_int_t)r->branch_tokens));
    }
    json_object_set_new(o, "store_s", sw_json_num(r->store_s));
    if (r->test_per >= 0) {
        json_object_set_new(o, "test_per", sw_json_num(r->test_per));
        json_object_set_new(o, "val_per", sw_json_num(r->val_per));
    }
    if (r->test_em_published >= 0) {
        json_object_set_new(o, "test_em_published", sw_json_num(r->test_em_published));
    }
    /* data levers: what the run trained on (docs/LEVERS.md) */
    json_object_set_new(o, "train_examples", json_integer((json_int_t)r->train_examples));
    if (r->subsample[0]) json_object_set_new(o, "subsample", json_string(r->subsample));
    if (r->augment[0]) json_object_set_new(o, "augment", json_string(r->augment));
    if (r->curriculum[0]) json_object_set_new(o, "curriculum", json_string(r->curriculum));
    if (r->train_examples != r->train_examples_all || r->duplicates || r->probe_tokens) {
        char hex[24];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)r->train_fingerprint);
        json_object_set_new(o, "train_examples_all", json_integer((json_int_t)r->train_examples_all));
        json_object_set_new(o, "duplicates_removed", json_integer((json_int_t)r->duplicates));
        json_object_set_new(o, "probe_tokens", json_integer((json_int_t)r->probe_tokens));
        json_object_set_new(o, "train_fingerprint", json_string(hex));
    }
    if (r->sparsity >= 0) { /* --prune (docs/PRUNING.md) */
        json_object_set_new(o, "sparsity", sw_json_num(r->sparsity));
        if (r->pruned_checkpoint[0]) {
            json_object_set_new(o, "pruned_checkpoint", json_string(r->pruned_checkpoint));
            json_object_set_new(o, "pruned_model", json_string(r->pruned_spec));
            json_object_set_new(o, "pruned_params", json_integer((json_int_t)r->pruned_params));
        }
    }
    if (r->warm_start[0]) json_object_set_new(o, "warm_start", json_string(r->warm_start)); /* --init */
    char *s = json_dumps(o, JSON_COMPACT);
    puts(s ? s : "{}");
    free(s);
    json_decref(o);
}

static void print_human(const sw_train_result *r)
{
    char tok[32], best[32], bud[32], cool[32];
    sw_format_tokens(r->tokens, tok, sizeof tok);
    sw_format_tokens(r->best_tokens, best, sizeof best);
    sw_format_tokens(r->budget, bud, sizeof bud);
    printf("status      %s\n", r->status);
    if (r->stop_rule[0]) printf("stopped by  %s\n", r->stop_reason); /* the reason starts with the rule */
    printf("tokens      %s of %s (%.1f%%)", tok, bud, 100.0 * (double)r->tokens / (double)r->budget);
    if (r->cooldown_tokens) printf(", cooldown %s", sw_format_tokens(r->cooldown_tokens, cool, sizeof cool));
    if (r->budget > r->tokens) printf(", saved %.1f%%", 100.0 * (double)(r->budget - r->tokens) / (double)r->budget);
    printf("\nbest at     %s tokens\n", best);
    if (r->branches)
        printf("branches    %zu, %s tokens of cooldowns (not counted above)\n", r->branches,
               sw_format_tokens(r->branch_tokens, cool, sizeof cool));
    printf("val EM      %.2f (select half %.2f, score half %.2f), %s weights\ntest EM     %.2f", r->val_em,
           r->select_em, r->score_em, r->weights, r->test_em);
    if (r->final_sample)
        printf(" +- %.2f (a seeded sample of %zu examples per split; --final-limit all reads them whole)",
               r->test_se, r->final_sample);
    printf("\n");
    if (r->test_per >= 0) printf("test PER    %.2f\n", r->test_per);
    if (r->test_em_published >= 0) printf("test EM     %.2f in the published form (no stress, ax = ah)\n", r->test_em_published);
    printf("evaluation  %zu examples every %llu tokens, %zu paired confirmations (%zu refuted)\n", r->eval_sample,
           (unsigned long long)r->eval_every, r->confirmations, r->vetoes);
    printf("wall        %.1f s (evaluation %.1f s, store %.3f s)\nmodel       %s\ncheckpoint  %s\n", r->wall_s, r->eval_s, r->store_s, r->model_spec,
           r->checkpoint);
    if (r->train_examples != r->train_examples_all)
        printf("trained on  %zu of %zu training examples%s%s%s\n", r->train_examples, r->train_examples_all,
               r->duplicates ? " (duplicates removed)" : "", r->subsample[0] ? ", subsample " : "", r->subsample);
    if (r->probe_tokens) printf("probe       %llu tokens (not counted above)\n", (unsigned long long)r->probe_tokens);
    if (r->augment[0]) printf("augment     %s\n", r->augment);
    if (r->curriculum[0]) printf("curriculum  %s\n", r->curriculum);
    if (r->sparsity >= 0) printf("pruned      %.1f%% of the best checkpoint's prunable weights or units\n", 100 * r->sparsity);
    if (r->pruned_checkpoint[0])
        printf("compact     %s (%zu parameters, %s)\n", r->pruned_checkpoint, r->pruned_params, r->pruned_spec);
    if (r->warm_start[0]) printf("warm start  %s\n", r->warm_start);
    if (r->run_id >= 0) printf("run         %lld\n", (long long)r->run_id);
}

/* An online audit run trained the whole budget: replay its curve under the
 * ladder's current and next policies and move the ladder. */
static sw_status record_audit(const sw_train_options *o, const char *key, char *why, size_t wlen, sw_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/curve.csv", o->out_dir);
    sw_curve *curve;
    sw_store *s;
    sw_status st = sw_curve_read_csv(path, &curve, err);
    if (st) return st;
    if (!(st = sw_store_open(o->store, &s, err))) {
        st = sw_online_record(s, key, curve, o->budget, why, wlen, err);
        sw_store_close(s);
    }
    sw_curve_free(curve);
    return st;
}

/* "all" -> SIZE_MAX, the option's default word ("0", "auto") -> 0, else a
 * positive count; prints the error and returns nonzero on anything else. */
static int count_or_all(const char *text, const char *flag, const char *zero, size_t *out)
{
    if (!strcmp(text, "all")) *out = SIZE_MAX;
    else if (!strcmp(text, zero)) *out = 0;
    else {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno || end == text || *end || text[0] == '-' || v == 0) {
            sw_cli_fail("train", 2, "%s: expected a positive count, %s or all, got '%s'", flag, zero, text);
            return 1;
        }
        *out = (size_t)v;
    }
    return 0;
}

int sw_cmd_train(int argc, char **argv)
{
    sw_cli_args a;
    int rc = sw_cli_parse(&command, argc, argv, &a);
    if (rc >= 0) return rc;
    sw_train_options o = sw_train_default_options();
    o.data = sw_cli_str(&a, "data");
    if (!o.data) return sw_cli_fail("train", 2, "--data SPEC is required (e.g. --data cmudict)");
    if (sw_cli_given(&a, "model")) o.model = sw_cli_str(&a, "model");
    if (sw_cli_given(&a, "optimizer")) o.optimizer = sw_cli_str(&a, "optimizer");
    if (sw_cli_given(&a, "schedule")) o.schedule = sw_cli_str(&a, "schedule");
    if (sw_cli_given(&a, "batch")) o.batch = (int)sw_cli_int(&a, "batch");
    o.batch_ramp = sw_cli_str(&a, "batch-ramp");
    if (sw_cli_given(&a, "eval-every")) o.eval_every = sw_cli_tokens(&a, "eval-every");
    int budget_given = sw_cli_given(&a, "budget");
    if (budget_given) o.budget = sw_cli_tokens(&a, "budget");
    o.policy = sw_cli_str(&a, "stop");
    o.cooldown = sw_cli_double(&a, "cooldown");
    if (sw_cli_given(&a, "eval-limit")) o.eval_limit = (size_t)sw_cli_int(&a, "eval-limit");
    if (count_or_all(sw_cli_str(&a, "eval-test"), "--eval-test", "0", &o.eval_test)) return 2;
    if (count_or_all(sw_cli_str(&a, "final-limit"), "--final-limit", "auto", &o.final_limit)) return 2;
    o.eval_share = sw_cli_double(&a, "eval-share");
    if (!(o.eval_share > 0 && o.eval_share < 1)) return sw_cli_fail("train", 2, "--eval-share must be in (0, 1)");
    o.confirm_alpha = sw_cli_double(&a, "confirm");
    if (!(o.confirm_alpha >= 0 && o.confirm_alpha < 1)) return sw_cli_fail("train", 2, "--confirm must be in [0, 1)");
    if (sw_cli_given(&a, "average")) o.average = sw_cli_str(&a, "average");
    int shape = sw_decay_shape_find(sw_cli_str(&a, "cooldown-shape"));
    if (shape < 0) return sw_cli_fail("train", 2, "--cooldown-shape %s: expected linear or sqrt", sw_cli_str(&a, "cooldown-shape"));
    o.cooldown_shape = (sw_decay_shape)shape;
    double cools[16];
    sw_decay_shape shapes[2];
    o.forks = (int)sw_cli_int(&a, "forks");
    if (o.forks < 0) return sw_cli_fail("train", 2, "--forks %d: expected 0 or more", o.forks);
    if (o.forks) {
        if ((rc = sw_cli_parse_cooldowns("train", sw_cli_str(&a, "branch-cooldowns"), cools, 16, &o.n_branch_cooldowns)) >= 0)
            return rc;
        if ((rc = sw_cli_parse_shapes("train", sw_cli_str(&a, "branch-shapes"), shapes, 2, &o.n_branch_shapes)) >= 0)
            return rc;
        o.branch_cooldowns = cools;
        o.branch_shapes = shapes;
    }
    o.seed = (uint64_t)sw_cli_int(&a, "seed");
    o.data_opt.seed = (uint64_t)sw_cli_int(&a, "data-seed");
    if (sw_cli_given(&a, "val-frac")) o.data_opt.val_frac = sw_cli_double(&a, "val-frac");
    if (sw_cli_given(&a, "test-frac")) o.data_opt.test_frac = sw_cli_double(&a, "test-frac");
    o.data_opt.max_examples = (size_t)sw_cli_int(&a, "max-examples");
    o.data_opt.published = sw_cli_flag(&a, "published");
    o.dedupe = sw_cli_flag(&a, "dedupe");
    if (sw_cli_given(&a, "subsample")) {
        sw_subsample_spec sub;
        sw_error serr;
        o.subsample = sw_cli_str(&a, "subsample");
        if (sw_subsample_parse(o.subsample, &sub, &serr)) return sw_cli_fail("train", 2, "--subsample: %s", serr.msg + (strncmp(serr.msg, "subsample ", 10) ? 0 : 10));
    }
    if (sw_cli_given(&a, "augment")) o.augment = sw_cli_str(&a, "augment");
    if (sw_cli_given(&a, "curriculum")) o.curriculum = sw_cli_str(&a, "curriculum");
    if (sw_cli_given(&a, "prune")) { /* checked before any data is read */
        sw_prune_params pp;
        sw_error perr;
        o.prune = sw_cli_str(&a, "prune");
        if (sw_prune_params_parse(o.prune, &pp, &perr)) return sw_cli_fail("train", 2, "--prune: %s", perr.msg);
    }
    o.init = sw_cli_str(&a, "init");
    o.freeze = sw_cli_str(&a, "freeze");
    long long snapshots = sw_cli_int(&a, "snapshots");
    if (snapshots < 0 || snapshots > 10000) return sw_cli_fail("train", 2, "--snapshots must be 0..10000, not %lld", snapshots);
    o.snapshots = (int)snapshots;
    o.resume = sw_cli_flag(&a, "resume");
    if (sw_cli_given(&a, "stop-after")) o.stop_after = sw_cli_tokens(&a, "stop-after");
    o.run_name = sw_cli_str(&a, "name");
    char out[512];
    if (sw_cli_given(&a, "out")) {
        o.out_dir = sw_cli_str(&a, "out");
    } else if (o.resume) {
        return sw_cli_fail("train", 2, "--resume needs --out DIR, the folder of the run to continue");
    } else {
        char stamp[32], name[64];
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", gmtime(&now));
        snprintf(name, sizeof name, "%s", o.data);
        for (char *p = name; *p; p++)
            if (*p == ':' || *p == '/' || *p == ',' || *p == '=') *p = '_';
        snprintf(out, sizeof out, "runs/%.40s-%s", name, stamp);
        o.out_dir = out;
    }
    if (!sw_cli_flag(&a, "no-store")) {
        const char *env = getenv("STOPWISE_STORE");
        o.store = sw_cli_given(&a, "store") ? sw_cli_str(&a, "store") : env && *env ? env : "stopwise.db";
    }
    if (budget_given && o.budget == 0) return sw_cli_fail("train", 2, "--budget must be positive");
    sw_error err;
    sw_status st;
    /* the default budget follows the data; the task key of --stop auto needs it now */
    if (!budget_given && (st = sw_train_default_budget(o.data, &o.data_opt, &o.budget, &err)))
        return sw_cli_fail("train", sw_status_exit_code(st), "%s", err.msg);

    /* --stop auto: the tuned policy for this task, or the online ladder's */
    char auto_policy[512], why[1024], key[1024];
    int audit = 0, online = sw_cli_flag(&a, "online"), tuned = 0;
    /* data-parallel (docs/SCALING.md): rank 0 alone asks the controller, so
     * only it looks up an automatic policy; the online ladder would move once
     * per rank */
    int rank = 0, ranks = sw_parallel_launched(&rank);
    if (ranks > 1 && online)
        return sw_cli_fail("train", 2, "--online runs in one process only, not under mpirun with %d processes", ranks);
    if (rank != 0 && o.policy && !strcmp(o.policy, "auto")) o.policy = NULL;
    if (o.policy && !strcmp(o.policy, "auto")) {
        char data_key[600];
        snprintf(data_key, sizeof data_key, "%s%s", o.data, o.data_opt.published ? "+published" : "");
        if (sw_tune_task_key(data_key, o.model, o.budget, o.schedule, o.eval_every, key, sizeof key, &err))
            return sw_cli_fail("train", 2, "%s", err.msg);
        if (online && !o.store) return sw_cli_fail("train", 2, "--online keeps its state in the store: drop --no-store");
        sw_store *s = NULL;
        if (o.store && (st = sw_store_open(o.store, &s, &err)))
            return sw_cli_fail("train", sw_status_exit_code(st), "%s", err.msg);
        st = online ? sw_online_begin(s, key, o.budget, (int)sw_cli_int(&a, "audit-every"), sw_cli_double(&a, "epsilon"),
                                      auto_policy, sizeof auto_policy, &audit, why, sizeof why, &err)
                    : sw_tune_policy_for_task(s, key, o.budget, auto_policy, sizeof auto_policy, why, sizeof why, &tuned,
                                              &err);
        sw_store_close(s);
        if (st) return sw_cli_fail("train", sw_status_exit_code(st), "%s", err.msg);
        if (!sw_cli_flag(&a, "quiet")) fprintf(stderr, "stopwise train: --stop auto: %s\n", why);
        o.policy = auto_policy;
        /* a tuned policy that counts evaluations means what it was tuned for
         * only at the key's cadence (budget/100 unless given): fix it, rather
         * than let the evaluation sizing stretch it. The conservative default
         * keeps the sizing: a longer cadence only makes it more patient. */
        if ((tuned || online) && !o.eval_every) o.eval_every = o.budget / 100 ? o.budget / 100 : 1;
    } else if (online) {
        return sw_cli_fail("train", 2, "--online needs --stop auto");
    }

    /* --features: those CSV columns alone (docs/FEATURES.md) */
    sw_feature_list *features = NULL;
    if (sw_cli_given(&a, "features")) {
        if ((st = sw_feature_list_read(sw_cli_str(&a, "features"), &features, &err)))
            return sw_cli_fail("train", sw_status_exit_code(st), "--features: %s", err.msg);
        o.data_opt.features = features;
    }
    /* under mpirun: join the job (alone: nothing); rank 0 alone prints */
    if ((st = sw_parallel_begin(&err)))
        return rank == 0 ? sw_cli_fail("train", sw_status_exit_code(st), "%s", err.msg) : sw_status_exit_code(st);
    int lead = sw_parallel_rank() == 0;
    sw_cli_progress prog;
    sw_cli_progress_init(&prog, sw_cli_flag(&a, "quiet") || !lead);
    /* --threads or OMP_NUM_THREADS fix the count (and hold that many of the
     * shared slots); else it follows the other stopwise runs sharing the
     * cores (nn.h sw_threads_share_begin) */
    int threads = (int)sw_cli_int(&a, "threads"), shared = !threads && !getenv("OMP_NUM_THREADS");
    if (shared) sw_threads_share_begin();
    else sw_threads_share_hold(threads);
    if (!prog.quiet) fprintf(stderr, "stopwise train: %s, BLAS: %s%s\n", o.data, sw_blas_info(),
                             shared ? " (shared with other stopwise runs: cores / runs)" : "");
    if (!prog.quiet && sw_parallel_size() > 1)
        fprintf(stderr, "stopwise train: data-parallel on %d ranks (MPI), batch/%d rows each per step\n",
                sw_parallel_size(), sw_parallel_size());
    sw_train_result res;
    sw_error_clear(&err);
    st = sw_train(&o, sw_cli_progress_update, &prog, &res, &err);
    sw_feature_list_free(features);
    sw_threads_share_end();
    sw_cli_progress_done(&prog);
    sw_cli_args_free(&a);
    /* rank 0 reports an error the ranks failed on together; a rank that
     * failed alone reports its own, and the job is then aborted */
    if (st && lead) sw_cli_fail("train", sw_status_exit_code(st), "%s", err.msg);
    else if (st && !sw_parallel_failed_together())
        sw_cli_fail("train", sw_status_exit_code(st), "rank %d: %s", sw_parallel_rank(), err.msg);
    sw_parallel_end(sw_status_exit_code(st));
    if (st) return sw_status_exit_code(st);
    if (!lead) return 0; /* the result is rank 0's to print */
    if (online && audit && (st = record_audit(&o, key, why, sizeof why, &err)))
        return sw_cli_fail("train", sw_status_exit_code(st), "audit: %s", err.msg);
    if (online && audit && !sw_cli_flag(&a, "quiet")) fprintf(stderr, "stopwise train: audit: %s\n", why);
    if (sw_cli_flag(&a, "json")) print_json(&res, o.policy, o.policy == auto_policy ? why : NULL, audit);
    else print_human(&res);
    return 0;
}

/* The option table, so `stopwise search` checks a space against the very
 * options train parses (cli/search.h). */
const sw_cli_command *sw_cmd_train_command(void) { return &command; }
