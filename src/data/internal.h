/* data/: private structures shared by the loaders. Not part of the API. */
#ifndef SW_DATA_INTERNAL_H
#define SW_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "stopwise/data.h"

/* ---- arena: many small strings freed at once ------------------------------- */
typedef struct sw_arena_block sw_arena_block;
typedef struct sw_arena { sw_arena_block *head; } sw_arena;
/* Copies n bytes plus a NUL; NULL on allocation failure. */
char *sw_arena_strndup(sw_arena *a, const char *s, size_t n);
void *sw_arena_alloc(sw_arena *a, size_t n);
void sw_arena_free(sw_arena *a);

/* ---- string -> int32 hash map (keys borrowed, must outlive the map) ------- */
typedef struct sw_strmap {
    const char **key;
    uint32_t *klen;
    int32_t *val;
    uint64_t *hash;
    size_t cap, n;
} sw_strmap;
uint64_t sw_fnv1a(const char *s, size_t n);
/* Value of key, or -1. */
int32_t sw_strmap_get(const sw_strmap *m, const char *k, size_t n);
/* Inserts key -> val unless present; returns the stored value (the old one if
 * present), or -2 on allocation failure. */
int32_t sw_strmap_put(sw_strmap *m, const char *k, size_t n, int32_t val);
void sw_strmap_free(sw_strmap *m);

/* ---- UTF-8 characters ----------------------------------------------------------- */
/* Reads the character at s[*pos] (s has n bytes) and writes it as valid UTF-8
 * (1-4 bytes, NUL-terminated) into sym[5]; an invalid byte is read as the
 * Latin-1 character of its value. Advances *pos; returns the symbol's length. */
int sw_utf8_next(const char *s, size_t n, size_t *pos, char sym[5]);
/* Copies s (n bytes, no NUL) into out as valid UTF-8 by the same rule, every
 * invalid byte becoming its Latin-1 character: out needs 2n + 1 bytes.
 * Returns the length written (NUL-terminated). Text that becomes a vocabulary
 * symbol or a class name goes through here, so JSON can hold it. */
size_t sw_utf8_clean(const char *s, size_t n, char *out);

/* ---- whole files and lines --------------------------------------------------------- */
/* (whole files: sw_file_read in base.h) */
/* Line iterator over a buffer: returns 0 at the end; strips \n and \r\n and,
 * on the first line, a UTF-8 byte order mark. */
typedef struct sw_lines { const char *buf; size_t len, pos; size_t lineno; } sw_lines;
int sw_lines_next(sw_lines *it, const char **line, size_t *n);

/* ---- raw sequence examples, grouped by input ------------------------------ */
typedef struct sw_seq_ref { const char *text; int32_t next; } sw_seq_ref;
typedef struct sw_seq_group {
    const char *input;
    int32_t first_ref, last_ref, n_refs;
    uint32_t line; /* first source line, for messages */
} sw_seq_group;
typedef struct sw_seq_raw {
    sw_arena *arena; /* the dataset's */
    sw_strmap by_input;
    sw_seq_group *g;
    size_t n, cap;
    sw_seq_ref *r;
    size_t nr, capr;
} sw_seq_raw;
/* Adds (input, target): groups by input, drops a duplicate reference. The
 * target's spaces are normalised (trimmed, runs collapsed). SW_ERR_NOMEM. */
sw_status sw_seq_raw_add(sw_seq_raw *raw, const char *input, size_t in_len, const char *target,
                         size_t tgt_len, uint32_t line, sw_error *err);
void sw_seq_raw_free(sw_seq_raw *raw);

/* ---- the dataset --------------------------------------------------------------- */
typedef struct sw_seq_example {
    const char *input;
    int32_t in_off, in_len; /* into tok */
    int32_t ref0, n_refs;   /* into refs */
} sw_seq_example;
typedef struct sw_seq_target { const char *text; int32_t off, len; } sw_seq_target;

struct sw_dataset {
    sw_task_kind kind;
    char *name;
    sw_arena arena;
    uint64_t seed;
    int train_fold, train_folds;   /* sw_data_options' fold to leave out of train */
    uint32_t *idx[SW_SPLIT_COUNT]; /* split -> example indices, in source order */
    size_t cnt[SW_SPLIT_COUNT];
    /* sequence */
    sw_vocab *vocab;
    sw_seq_example *ex;
    size_t n_ex;
    sw_seq_target *refs;
    int32_t *tok;
    int max_in, max_ref;
    size_t unk[SW_SPLIT_COUNT];
    /* classification */
    sw_classes *classes;
    float *feat;      /* (n_rows, nf) */
    int32_t *label;   /* (n_rows) */
    uint32_t *src;    /* (n_rows) source line (csv) or index (idx) */
    uint8_t *src_test; /* (n_rows) idx: 1 if from the test file */
    size_t n_rows;
    int nf;
    int img_h, img_w; /* idx with 2-D images: their shape (sw_dataset_image_shape); else 0 */
    const char **fname; /* (nf) csv: the feature columns' names, in the arena (features.c); else NULL */
};

/* Finishes a sequence dataset from raw groups: split, subsample, vocabulary,
 * encoding. `what` names the source for messages. Consumes nothing of raw
 * but its strings live in ds->arena. */
sw_status sw_seq_finish(sw_dataset *ds, sw_seq_raw *raw, const sw_data_options *opt, const char *what,
                        sw_error *err);

/* Split assignment. keys[i] is a per-example hash of its identity (input
 * text); n examples are ordered by sw_hash3(seed, keys[i]) and the first
 * n_test go to test, the next n_val to validation, the rest to train; then
 * each split is subsampled to about max_examples * share. Fills ds->idx/cnt
 * in source order. pool_test: if non-NULL, examples with pool_test[i] = 1
 * form the test split as they are (an official test set) and the others
 * are split into train/val only. */
sw_status sw_split_assign(sw_dataset *ds, const uint64_t *keys, size_t n, const uint8_t *pool_test,
                          double val_frac, double test_frac, size_t max_examples, sw_error *err);

/* Vocabulary internals (vocab.c). */
sw_vocab *sw_vocab_build(const char *const *inputs, size_t n_in, const char *const *targets, size_t n_tgt,
                         int spaced);
sw_vocab *sw_vocab_new_empty(void);
/* Splits a target into symbols: calls f(sym, n, ctx) for each. */
void sw_target_symbols(const char *text, int spaced, void (*f)(const char *, size_t, void *), void *ctx);

/* Class list internals (classes.c). names are copied. */
sw_classes *sw_classes_new(int num_features, double scale, const char *const *names, int k);
/* Gives c the names of its num_features feature columns (copied): a class
 * list trained on a selection of CSV columns (docs/FEATURES.md). SW_ERR_NOMEM. */
sw_status sw_classes_set_feature_names(sw_classes *c, const char *const *names, sw_error *err);
/* features.c: the CSV loader's feature selection. names (nf) are the file's
 * feature columns; label its label column's header name (NULL: none). The
 * selection is opt->features, else the names opt->classes carries; with one,
 * *pick gets (malloc'd; the caller frees) the positions among the nf columns
 * of the selected ones, ascending, and *n their count; without, NULL and 0.
 * SW_ERR_INVALID naming the origin (file:line), the name and path. */
sw_status sw_features_resolve(const sw_data_options *opt, const char *path, const char *const *names, int nf,
                              const char *label, int **pick, int *n, sw_error *err);

/* Loaders: each fills a fresh ds (kind, name, ...) or returns an error. */
sw_status sw_load_lexicon(sw_dataset *ds, const char *path, int is_default, const sw_data_options *opt,
                          sw_error *err);
sw_status sw_load_tsv(sw_dataset *ds, const char *path, const sw_data_options *opt, sw_error *err);
sw_status sw_load_jsonl(sw_dataset *ds, const char *path, const sw_data_options *opt, sw_error *err);
sw_status sw_load_csv(sw_dataset *ds, const char *path, const sw_data_options *opt, sw_error *err);
sw_status sw_load_idx(sw_dataset *ds, const char *train_images, const char *train_labels, const char *test_images,
                      const char *test_labels, const sw_data_options *opt, sw_error *err);
sw_status sw_load_synthetic(sw_dataset *ds, const char *args, const sw_data_options *opt, sw_error *err);

/* Stream ids for sw_hash3, so that different uses of one seed never collide. */
enum { SW_STREAM_SPLIT = 0x5350, SW_STREAM_SUBSAMPLE = 0x5355, SW_STREAM_SYNTH = 0x5359, SW_STREAM_FOLD = 0x5346,
       SW_STREAM_SELECT = 0x534c, SW_STREAM_AUGMENT = 0x5341 };

#endif
