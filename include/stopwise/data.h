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
