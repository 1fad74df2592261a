/* Private to stop/: reading curves from other tools' CSV files
 * (docs/STOPPING.md, "Curves from other tools"). Three steps, one file each:
 *   csv_table.c     the file as a table of text cells (RFC 4180 quoting),
 *                   each row with its line number;
 *   curve_format.c  which tool wrote it, from the header;
 *   curve_foreign.c the table as a curve: the x axis as tokens, rows of one
 *                   evaluation merged, the chosen metric in the monitored
 *                   column.
 * curve_read.c dispatches (sw_curve_parse_csv_with); curve.c keeps the
 * stopwise format itself. */
#ifndef SW_STOP_CURVE_CSV_H
#define SW_STOP_CURVE_CSV_H

#include "stopwise/stop.h"

#include <stddef.h>

/* ---- csv_table.c ------------------------------------------------------------- */

/* A CSV file read whole. Cells are NUL-terminated strings inside one buffer
 * (quotes removed, "" unescaped; unquoted cells trimmed of spaces and tabs).
 * Blank lines are skipped; every row has as many cells as the header. */
typedef struct sw_csv_table {
    char *buf;
    size_t n_cols, n_rows;
    char **names;   /* n_cols: the header; "" for an unnamed column */
    char **cells;   /* n_rows * n_cols, row-major */
    size_t *lines;  /* n_rows: the 1-based line each row starts on */
} sw_csv_table;

/* Parses text (len bytes, a leading UTF-8 byte order mark skipped); with
 * header_only, only the first non-blank line (no rows). Errors are
 * SW_ERR_FORMAT naming "NAME:LINE: ..." (a NUL byte, a broken quote, a row
 * whose cell count differs from the header's, a name twice in the header)
 * or SW_ERR_NOMEM. An empty file gives a table with no columns. */
sw_status sw_csv_table_parse(const char *text, size_t len, const char *name, int header_only, sw_csv_table *t,
                             sw_error *err);
void sw_csv_table_clear(sw_csv_table *t); /* NULL is a no-op */
/* The column named `name` (exact match), or -1. */
long sw_csv_table_find(const sw_csv_table *t, const char *name);
const char *sw_csv_cell(const sw_csv_table *t, size_t row, size_t col);
/* "a, b, c" (at most cap bytes, "..." when cut): the header for messages. */
void sw_csv_table_columns(const sw_csv_table *t, char *buf, size_t cap);

/* ---- curve_format.c ---------------------------------------------------------- */

/* The format the header says, or SW_CURVE_FORMAT_AUTO with err naming the
 * columns found and the flags that resolve it (SW_ERR_FORMAT): a header that
 * fits no format, or fits two. `text_start` is the first line's text, for
 * the native format's own checks. */
sw_status sw_curve_format_detect(const sw_csv_table *t, const char *name, sw_curve_format *out, sw_error *err);
/* 1 when a W&B CSV is a panel export (Step and "RUN - METRIC" columns)
 * rather than a run's history (_step, _runtime, _timestamp, ...). */
int sw_curve_wandb_is_panel(const sw_csv_table *t);

/* ---- curve_foreign.c --------------------------------------------------------- */

/* The table (not native) as a curve under options o (not NULL); info (may
 * be NULL) says what was read. Errors name NAME:LINE and, where the file is
 * ambiguous, the columns found and the flag that resolves it. */
sw_status sw_curve_from_table(const sw_csv_table *t, sw_curve_format f, const char *name,
                              const sw_curve_csv_options *o, sw_curve **out, sw_curve_csv_info *info, sw_error *err);
/* 1 when a column name is a validation accuracy by the names the tools
 * use: val, valid, validation or eval, then '_', '/', '.' or '-', then acc,
 * accuracy, em or exact_match, optionally followed by _epoch (Lightning's
 * on_epoch suffix); case-insensitive. val_em is one of them. */
int sw_curve_is_accuracy_name(const char *name);
/* The metric's orientation when --mode is not given: 0 (min) for a name
 * ending in "loss" (as the policy's monitor= does), else 1 (max). */
int sw_curve_metric_maximize(const char *name);

/* ---- curve.c ------------------------------------------------------------------ */

/* The stopwise format itself (sw_curve_parse_csv before other tools'
 * formats existed; its messages and results are unchanged). */
sw_status sw_curve_parse_native(const char *text, size_t len, const char *name, sw_curve **out, sw_error *err);
/* Sets metric column `name` to values v with present flags (len entries
 * each), adding the column if absent. SW_ERR_NOMEM. */
sw_status sw_curve_put_column(sw_curve *c, const char *name, const double *v, const unsigned char *present);
/* Sets the curve's source file name (messages). */
void sw_curve_set_source(sw_curve *c, const char *name);

#endif
