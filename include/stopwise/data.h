/* stopwise data: datasets, tokenization, splits.
 *
 * A dataset is loaded from a SPEC string (see sw_dataset_load) into an opaque
 * sw_dataset that owns all of its memory: examples, token ids, the vocabulary
 * (sequence tasks) or the class list (classification tasks). It is split once,
 * at load time, into train / validation / test, deterministically from the
 * seed. The full specification of formats, tokenization and splits is
 * docs/DATA.md.
 *
 * Two task kinds:
 *   sequence  (cmudict, tsv, jsonl, synthetic): an input text and one or more
 *             reference answers; the model sees `input SEP target EOS`.
 *   classify  (fashion-mnist, idx, csv): a float feature vector and a label.
 *
 * Thread safety: a loaded dataset, vocabulary or class list is read-only and
 * may be read from several threads at once; loading and freeing are not
 * concurrent with reading. No function here prints or exits.
 */
#ifndef STOPWISE_DATA_H
#define STOPWISE_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "stopwise/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sw_task_kind { SW_TASK_SEQUENCE = 1, SW_TASK_CLASSIFY = 2 } sw_task_kind;
typedef enum sw_split { SW_SPLIT_TRAIN = 0, SW_SPLIT_VAL = 1, SW_SPLIT_TEST = 2 } sw_split;
#define SW_SPLIT_COUNT 3
/* "train", "val", "test"; NULL for anything else. */
const char *sw_split_name(sw_split s);

/* Fixed special token ids, the same in every vocabulary. */
enum { SW_TOKEN_PAD = 0, SW_TOKEN_SEP = 1, SW_TOKEN_EOS = 2, SW_TOKEN_UNK = 3, SW_TOKEN_FIRST = 4 };

typedef struct sw_vocab sw_vocab;
typedef struct sw_classes sw_classes;

/* Load options. Fill with sw_data_default_options() and change fields. The
 * struct is read during sw_dataset_load only; pointers in it are borrowed. */
typedef struct sw_data_options {
    uint64_t seed;          /* split (and synthetic generation) seed; default 1 */
    /* Fractions of the examples (groups of references) for validation and
     * test. Negative (the default) means the dataset's own default: 0.05 and
     * 0.05; for an IDX pair with an official test set (fashion-mnist) the
     * validation fraction is 0.1 of the training file and test_frac is ignored
     * (the official test file is the test split). val_frac + test_frac < 1. */
    double val_frac, test_frac;
    int published;          /* cmudict only: strip stress, map ax -> ah (BENCH.md §3) */
    /* 0 = all. Else keep a seeded subsample of about this many examples,
     * taken from each split in proportion to its size, so that a subsample's
     * test split is a subset of the full test split (docs/DATA.md). */
    size_t max_examples;
    /* K-fold subsets of the training split (tuning runs on different data):
     * with train_folds = K > 1, the training examples whose seeded hash falls
     * in fold train_fold (0..K-1) are left out, so K runs each see a
     * different (K-1)/K of the training split. Validation and test are
     * unchanged. 0 (default) = the whole training split. */
    int train_fold, train_folds;
    const char *csv_label;  /* CSV label column: a header name or a 0-based index; NULL = last column */
    int csv_header;         /* CSV header line: -1 auto-detect (default), 0 no, 1 yes */
    size_t synth_n;         /* synthetic: number of examples (default 20000) */
    int synth_len;          /* synthetic: maximum length / operand digits (default 8) */
    /* Sequence tasks: if non-NULL, encode with this vocabulary (e.g. the one
     * stored in a checkpoint) instead of building one from the training split;
     * symbols it lacks map to UNK in every split and are counted. Borrowed:
     * the dataset keeps its own copy. */
    const sw_vocab *vocab;
    /* Classification tasks: if non-NULL, use this class list (a checkpoint's)
     * instead of deriving one: CSV labels are looked up by name (a label it
     * lacks is SW_ERR_FORMAT naming file:line), the feature count must match
     * (else SW_ERR_INVALID). Borrowed, copied. */
    const sw_classes *classes;
    /* CSV only: train on these feature columns alone (names as in the header,
     * col1..colN in a file without one; docs/FEATURES.md), kept in the file's
     * column order. NULL = every column, or the selection `classes` carries
     * (a model trained on a selection). A name the file lacks, the label's, or
     * one listed twice is SW_ERR_INVALID naming the list's origin (and line).
     * The split does not depend on the selection: it hashes whole rows.
     * Borrowed. */
    const struct sw_feature_list *features;
} sw_data_options;

sw_data_options sw_data_default_options(void);

/* ---- datasets ----------------------------------------------------------------- */

typedef struct sw_dataset sw_dataset;

/* Loads a dataset. SPEC is one of
 *   cmudict[:PATH]        a Festival lexicon; default: festlex-cmu's
 *                         cmudict-0.4.out, looked up in the usual places
 *   fashion-mnist[:DIR]   the four IDX files (gzip or plain) in DIR; default
 *                         /usr/share/datasets/fashion-mnist
 *   idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]   any IDX pair (paths without commas)
 *   tsv:PATH              input<TAB>target lines
 *   jsonl:PATH            {"input": "...", "target": "..." or ["...", ...]} lines
 *   csv:PATH              numeric features and a label column
 *   synthetic:NAME[:k=v,...]   NAME = addition | reversal | copy | sorting;
 *                         keys n, len, min, alphabet, override the options
 * On success *out is a new dataset the caller frees with sw_dataset_free.
 * Errors (and *out = NULL): SW_ERR_NOT_FOUND a missing file; SW_ERR_FORMAT
 * malformed contents, the message naming the file, the line (text) or byte
 * offset (binary) and what was expected; SW_ERR_INVALID a bad spec or
 * option, or a dataset with no examples (naming the file); SW_ERR_IO,
 * SW_ERR_NOMEM. */
sw_status sw_dataset_load(const char *spec, const sw_data_options *opt, sw_dataset **out, sw_error *err);
void sw_dataset_free(sw_dataset *ds); /* NULL is a no-op */

sw_task_kind sw_dataset_kind(const sw_dataset *ds);
/* A stable name for task keys: "cmudict" (or "cmudict:PATH" for another
 * lexicon; "+published" appended in the published form), "fashion-mnist",
 * "idx:...", "tsv:PATH", "jsonl:PATH", "csv:PATH", "synthetic:NAME:n=..,len=..,..".
 * Owned by the dataset. */
const char *sw_dataset_name(const sw_dataset *ds);
size_t sw_dataset_count(const sw_dataset *ds, sw_split split);

/* Writes the split, so that others can reproduce it: a UTF-8 text file, one
 * line per example, `SPLIT<TAB>ID`, in split order, after a `#` header line
 * with the dataset name, seed and counts. ID is the input text (sequence
 * tasks; tab, newline and backslash escaped as \t \n \\), `line:N` (CSV, the
 * 1-based line of the row) or `train:N` / `test:N` (IDX, the 0-based index in
 * the training or test file). Written atomically. */
sw_status sw_dataset_write_split(const sw_dataset *ds, const char *path, sw_error *err);

/* ---- sequence tasks (NULL / 0 on a classification dataset or out of range) ---- */

/* Token ids of example i's input under the dataset's vocabulary (no SEP, no
 * EOS); *len receives the count. Owned by the dataset. */
const int32_t *sw_dataset_input(const sw_dataset *ds, sw_split s, size_t i, int *len);
/* Number of distinct reference answers (>= 1). */
int sw_dataset_num_refs(const sw_dataset *ds, sw_split s, size_t i);
/* Token ids of reference j (no EOS). Target ids only (and UNK). */
const int32_t *sw_dataset_ref(const sw_dataset *ds, sw_split s, size_t i, int j, int *len);
/* The raw input text (for cmudict: the word, ASCII letters lowercased). */
const char *sw_dataset_input_text(const sw_dataset *ds, sw_split s, size_t i);
/* Reference j as text (space mode: symbols joined by single spaces). */
const char *sw_dataset_ref_text(const sw_dataset *ds, sw_split s, size_t i, int j);
/* Longest input and longest reference, in tokens, over all splits. */
int sw_dataset_max_input_len(const sw_dataset *ds);
int sw_dataset_max_ref_len(const sw_dataset *ds);
/* Input and reference symbols of split s mapped to UNK (0 for train unless
 * options.vocab was given). */
size_t sw_dataset_unknown_symbols(const sw_dataset *ds, sw_split s);
/* The vocabulary, owned by the dataset (NULL for classification). */
const sw_vocab *sw_dataset_vocab(const sw_dataset *ds);

/* ---- classification tasks (0 / NULL on a sequence dataset or out of range) ---- */

int sw_dataset_num_features(const sw_dataset *ds);
int sw_dataset_num_classes(const sw_dataset *ds);
/* (num_features) floats; IDX bytes are scaled to [0,1] (x / 255), CSV values
 * as written. Owned by the dataset. */
const float *sw_dataset_features(const sw_dataset *ds, sw_split s, size_t i);
int32_t sw_dataset_label(const sw_dataset *ds, sw_split s, size_t i); /* -1 if out of range */
/* Class name: the CSV label text, or "0".."K-1" for IDX. Owned by the dataset. */
const char *sw_dataset_class_name(const sw_dataset *ds, int c);
/* The class list (for checkpoints), owned by the dataset. */
const sw_classes *sw_dataset_classes(const sw_dataset *ds);

/* ---- vocabulary ------------------------------------------------------------------
 * ids [0, 4) are the specials PAD SEP EOS UNK; then the input symbols; then the
 * target symbols: two disjoint ranges, so a decoder can be restricted to
 * target symbols + EOS. Symbols are sorted bytewise within each range, so the
 * same training split gives the same ids.
 *
 * Inputs are split into characters = Unicode code points of UTF-8 text; a byte
 * that does not begin a valid UTF-8 sequence is read as the Latin-1 character
 * of the same value (so every symbol is valid UTF-8 and JSON can hold it).
 * Targets are split on spaces when the dataset's targets contain spaces
 * ("space mode", e.g. phones), else into characters like inputs; either way
 * their bytes are read by the same UTF-8-or-Latin-1 rule, as are CSV labels
 * (class names). */

int sw_vocab_size(const sw_vocab *v);
int sw_vocab_num_input(const sw_vocab *v);  /* input symbols: ids [4, 4 + n) */
int sw_vocab_num_target(const sw_vocab *v); /* target symbols: the n ids after them */
int sw_vocab_first_target(const sw_vocab *v); /* 4 + num_input */
int sw_vocab_target_spaced(const sw_vocab *v); /* 1 in space mode */
int sw_vocab_is_target(const sw_vocab *v, int32_t id);
/* "<pad>", "<sep>", "<eos>", "<unk>" or the symbol; NULL out of range. Owned by v. */
const char *sw_vocab_symbol(const sw_vocab *v, int32_t id);
/* Encodes an input text into ids; returns the number of symbols in text
 * (which may exceed max: only the first max ids are written, like snprintf).
 * Unknown symbols become SW_TOKEN_UNK and are added to *n_unknown (NULL ok). */
int sw_vocab_encode_input(const sw_vocab *v, const char *text, int32_t *ids, int max, int *n_unknown);
/* The same for a target text, split as the vocabulary's targets are. */
int sw_vocab_encode_target(const sw_vocab *v, const char *text, int32_t *ids, int max, int *n_unknown);
/* Decodes target ids into buf (always NUL-terminated, truncated to len):
 * symbols joined by ' ' in space mode, else concatenated; stops at the first
 * EOS, skips PAD and SEP, writes UNK as "<unk>". Returns buf. */
char *sw_vocab_decode_target(const sw_vocab *v, const int32_t *ids, int n, char *buf, size_t len);
/* JSON for checkpoint metadata:
 *   {"version":1,"target_mode":"space"|"chars","input":[...],"target":[...]}
 * The caller frees the string with free(); NULL on allocation failure. */
char *sw_vocab_to_json(const sw_vocab *v);
/* Parses that JSON into a new vocabulary (caller frees with sw_vocab_free).
 * SW_ERR_FORMAT / SW_ERR_VERSION with a message starting "vocabulary: ". */
sw_status sw_vocab_from_json(const char *json, sw_vocab **out, sw_error *err);
sw_vocab *sw_vocab_copy(const sw_vocab *v); /* NULL on allocation failure */
void sw_vocab_free(sw_vocab *v); /* NULL is a no-op */

/* ---- class lists (classification checkpoints) -------------------------------- */

int sw_classes_count(const sw_classes *c);
int sw_classes_num_features(const sw_classes *c);
/* Multiplier applied to raw feature values at load (1/255 for IDX bytes, 1 for CSV). */
double sw_classes_feature_scale(const sw_classes *c);
const char *sw_classes_name(const sw_classes *c, int k); /* NULL out of range; owned by c */
int sw_classes_find(const sw_classes *c, const char *name); /* -1 if absent */
/* {"version":1,"num_features":N,"feature_scale":S,"names":[...]}; free() it. */
char *sw_classes_to_json(const sw_classes *c);
sw_status sw_classes_from_json(const char *json, sw_classes **out, sw_error *err);
sw_classes *sw_classes_copy(const sw_classes *c);
void sw_classes_free(sw_classes *c); /* NULL is a no-op */
/* Parses one line of num_features comma-separated numbers (a predict input
 * for a classification model) into out (num_features floats), multiplied by
 * the feature scale. SW_ERR_FORMAT naming the 1-based column on a bad field
 * or a wrong count. */
sw_status sw_classes_parse_features(const sw_classes *c, const char *line, float *out, sw_error *err);

/* ---- data levers: de-duplication, subsampling, augmentation ---------------------
 * What the training split holds and how its examples look when fed; validation
 * and test are never touched. docs/LEVERS.md has the reasoning and the
 * measurements. Everything here is a pure function of (seed, data): no thread
 * count, no clock, no global state. */

/* Image height and width of an IDX dataset whose images are 2-D (fashion-mnist:
 * 28 x 28, features in row-major order); returns 1, or 0 (and 0, 0) when the
 * features are not an image (CSV, a sequence task, 1-D IDX). */
int sw_dataset_image_shape(const sw_dataset *ds, int *height, int *width);

/* Removes exact duplicates from the training split, keeping the first of each
 * group (lowest position): classification examples whose label and every
 * feature value are equal (compared as numbers: 0 equals -0). Sequence
 * examples are already unique: the loaders merge lines with the same input
 * into one example and drop repeated references, so nothing is removed there.
 * *removed (may be NULL) gets the count. SW_ERR_NOMEM. */
sw_status sw_dataset_dedupe_train(sw_dataset *ds, size_t *removed, sw_error *err);

/* Restricts the training split to the positions keep[0..n) of the current
 * training split (any order, no repeats, each < sw_dataset_count(TRAIN)); the
 * kept examples stay in their source order. SW_ERR_INVALID on a position out
 * of range, a repeat, or n = 0. */
sw_status sw_dataset_keep_train(sw_dataset *ds, const uint32_t *keep, size_t n, sw_error *err);

/* A 64-bit fingerprint of the training split's examples (their identities as
 * sw_dataset_write_split names them, in order): two runs trained on the same
 * selection have the same fingerprint. */
uint64_t sw_dataset_train_fingerprint(const sw_dataset *ds);

/* Which training examples to keep (`stopwise train --subsample SPEC`):
 *   F                     = uniform:keep=F
 *   uniform:keep=F        a seeded uniform sample of round(F x n) examples
 *   stratified:keep=F     the same within strata, each stratum keeping
 *                         floor or ceil of F x its size (largest remainders
 *                         first, so the total is round(F x n)): strata are the
 *                         classes (classification) or the input lengths in
 *                         symbols (sequences)
 *   loss|el2n|forgetting:keep=F[,take=hard|easy|mix][,hard=H][,balance=0|1]
 *                        [,probe=TOKENS][,points=N]
 *                         by a score from a short probe run (the trainer's):
 *                         loss = the example's cross-entropy at the end of the
 *                         probe; el2n = the L2 norm of softmax minus one-hot
 *                         (Paul et al. 2021, "Deep Learning on a Data Diet");
 *                         forgetting = how often the example went from right to
 *                         wrong between N scoring points (Toneva et al. 2019,
 *                         "An Empirical Study of Example Forgetting"), never
 *                         learned counting as most forgotten, ties broken by
 *                         the final loss. take=hard (default) keeps the highest
 *                         scores, easy the lowest, mix H of the kept from the
 *                         hard end (hard=0.5) and the rest from the easy end;
 *                         balance=1 selects within the strata above. probe=0
 *                         (default): a tenth of the run's budget; points: 1
 *                         (loss, el2n) or 10 (forgetting, at least 2).
 * F must be in (0, 1]; every count is at least 1. Ties are broken by a hash
 * of (seed, example), so the selection is a pure function of the seed, the
 * data and the scores. */
typedef enum sw_subsample_kind {
    SW_SUBSAMPLE_NONE = 0,
    SW_SUBSAMPLE_UNIFORM,
    SW_SUBSAMPLE_STRATIFIED,
    SW_SUBSAMPLE_LOSS,
    SW_SUBSAMPLE_EL2N,
    SW_SUBSAMPLE_FORGETTING
} sw_subsample_kind;
typedef enum sw_subsample_take { SW_SUBSAMPLE_HARD = 0, SW_SUBSAMPLE_EASY, SW_SUBSAMPLE_MIX } sw_subsample_take;

typedef struct sw_subsample_spec {
    sw_subsample_kind kind;
    double keep;            /* fraction kept, (0, 1]                       */
    sw_subsample_take take; /* score kinds: which end                      */
    double hard;            /* take=mix: share of the kept from the hard end */
    int balance;            /* score kinds: select within strata           */
    uint64_t probe;         /* score kinds: probe tokens; 0 = the trainer's default */
    int points;             /* score kinds: scoring points in the probe    */
} sw_subsample_spec;

/* Parses SPEC (above); "none" or "" is SW_SUBSAMPLE_NONE. SW_ERR_INVALID with a
 * message naming the part and what was expected, e.g. "subsample '1.5': keep
 * must be a fraction in (0, 1], got 1.5". */
sw_status sw_subsample_parse(const char *text, sw_subsample_spec *out, sw_error *err);
/* The canonical text (every key), which parses back to the same spec. */
char *sw_subsample_format(const sw_subsample_spec *s, char *buf, size_t len);
/* 1 for the kinds that need probe scores (loss, el2n, forgetting). */
int sw_subsample_needs_scores(const sw_subsample_spec *s);
/* The number of examples kept of n: round(keep x n), at least 1. */
size_t sw_subsample_count(const sw_subsample_spec *s, size_t n);
/* The stratum of training example i for stratified selection: its label, or
 * its input length in symbols. */
int sw_dataset_train_stratum(const sw_dataset *ds, size_t i);
/* Selects training positions: keep receives sw_subsample_count(s, n) positions
 * (n = the training split's size) in ascending order, *n_keep their count.
 * scores: (n) per training example, higher = harder, for the score kinds
 * (NULL otherwise). keep must hold n entries. SW_ERR_INVALID (a score kind
 * without scores), SW_ERR_NOMEM. */
sw_status sw_subsample_select(const sw_dataset *ds, const sw_subsample_spec *s, uint64_t seed, const double *scores,
                              uint32_t *keep, size_t *n_keep, sw_error *err);

/* Label-preserving augmentation of training features (`--augment SPEC`),
 * classification tasks only:
 *   image[:shift=P][,flip=0|1]   pad by P pixels (zeros) and crop back at a
 *                                random offset: a shift by dx, dy uniform in
 *                                [-P, P] (default 2); flip=1 also mirrors left-
 *                                right with probability 1/2, only on data sets
 *                                declared mirror-safe (sw_data_flips_safe).
 *                                Needs 2-D images (sw_dataset_image_shape).
 *   noise[:sigma=S]              adds N(0, (S x sd_j)^2) to feature j, sd_j its
 *                                standard deviation over the training split
 *                                (default S 0.1; a constant feature gets none)
 * Refused with a reason (SW_ERR_INVALID): mixup (it needs soft labels, which
 * the mlp's loss does not take), any augmentation of a sequence task (no
 * label-preserving transformation of a spelling is known: a changed letter
 * changes the pronunciation). Each example's draw is a function of
 * (seed, round, example) only, through sw_hash3: independent of the batch, the
 * thread count and the order of the calls. */
typedef struct sw_augment sw_augment;
sw_status sw_augment_create(const char *spec, const sw_dataset *ds, uint64_t seed, sw_augment **out, sw_error *err);
void sw_augment_free(sw_augment *a); /* NULL is a no-op */
/* The canonical spec text; owned by a. */
const char *sw_augment_text(const sw_augment *a);
/* Augments one training row x (num_features floats) in place. `round` is the
 * epoch (or any counter that differs between the times an example is drawn),
 * `example` its training position. Not thread-safe on one handle (a scratch
 * row lives in it). */
void sw_augment_row(sw_augment *a, float *x, uint64_t round, uint64_t example);
/* The image transformation drawn for (round, example): shift and flip (0/1);
 * all 0 for noise. For tests and reports. */
void sw_augment_image_draw(const sw_augment *a, uint64_t round, uint64_t example, int *dx, int *dy, int *flip);
/* 1 if mirroring an image left-right keeps its label for this dataset (by its
 * sw_dataset_name): declared per data set, never guessed. fashion-mnist: yes
 * (garments, shoes and bags mirrored are the same class). */
int sw_data_flips_safe(const char *dataset_name);

/* ---- feature selection (tabular data; docs/FEATURES.md) ------------------------
 * The ranking methods live where their machinery is: mutual information here,
 * the L1 path in nn.h, permutation importance and `select-features` itself in
 * train.h. */

/* A list of feature (column) names: `train --features`, the file
 * `select-features` writes. Plain data, owned by whoever read it. */
typedef struct sw_feature_list {
    int n;
    char **names;  /* (n) */
    int *lines;    /* (n) 1-based line of each name in `origin`; 0 when given inline */
    char *origin;  /* the file read, or "--features" for an inline list */
} sw_feature_list;

/* Reads ARG: the file of that name when one exists (one name a line; blank
 * lines and lines starting with '#' are skipped; spaces around a name are
 * trimmed), else ARG itself as comma-separated names. A name listed twice or
 * an empty list is SW_ERR_INVALID naming the file and line; SW_ERR_IO,
 * SW_ERR_NOMEM. *out is new; free it with sw_feature_list_free. */
sw_status sw_feature_list_read(const char *arg, sw_feature_list **out, sw_error *err);
/* Writes names[0..n) one a line after a `# ` comment line (comment may be
 * NULL), atomically. A name holding a newline is SW_ERR_INVALID. */
sw_status sw_feature_list_write(const char *path, const char *const *names, int n, const char *comment,
                                sw_error *err);
void sw_feature_list_free(sw_feature_list *l); /* NULL is a no-op */

/* The name of feature j of a CSV dataset (its header's, or colN for the
 * file's 1-based column N without a header); NULL for other data or j out of
 * range. Owned by the dataset. */
const char *sw_dataset_feature_name(const sw_dataset *ds, int j);
/* The feature names a class list carries (a model trained on a selection of
 * columns), or NULL when it carries none or j is out of range. Owned by c. */
const char *sw_classes_feature_name(const sw_classes *c, int j);

/* Mutual information, in nats, between a continuous feature and a class
 * label: x[i * stride] and y[i] for i < n, labels >= 0. Ross's k-nearest-
 * neighbour estimator (Ross 2014, PLoS ONE 9(2): e87357; the discrete-
 * continuous form of Kraskov, Stoegbauer and Grassberger 2004):
 *   I = psi(N) - <psi(N_y)> + psi(k) - <psi(m)>
 * psi the digamma function, <.> the mean over points; for point i, N_y is
 * the size of its class, d_i the distance to its k-th nearest neighbour in
 * its class (k lowered to N_y - 1 in a smaller class), m_i the number of
 * other points of any class within distance d_i (ties counted, so m_i >= k).
 * Points alone in their class are left out (N counts the rest). The estimate
 * is clipped at 0. Pure; O(n log n); 0 for n < 2 or k < 1; NaN when out of
 * memory or a label is negative. */
double sw_mutual_info(const float *x, size_t stride, const int32_t *y, size_t n, int k);

/* ---- phones ------------------------------------------------------------------- */

/* Maps a lexicon-form phone string ("ax0 b ae1 k") to the published form
 * ("ah b ae k"): stress digits stripped, ax -> ah, single spaces. Writes at
 * most len bytes (NUL-terminated) into buf and returns buf. For scoring a
 * lexicon-form model in the published form (BENCH.md §3). */
char *sw_phones_published(const char *phones, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
