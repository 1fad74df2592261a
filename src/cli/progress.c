/* The progress bar and progress lines. */
#include "cli/progress.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

void sw_cli_progress_init(sw_cli_progress *p, int quiet)
{
    p->tty = isatty(2);
    p->quiet = quiet;
    p->drawn = 0;
}

static void fmt_em(char *buf, size_t len, double v)
{
    if (isnan(v)) snprintf(buf, len, "-");
    else snprintf(buf, len, "%.2f", v);
}

static void fmt_eta(char *buf, size_t len, double s)
{
    if (!(s >= 0) || s > 1e7) snprintf(buf, len, "--:--");
    else if (s >= 3600) snprintf(buf, len, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else snprintf(buf, len, "%02d:%02d", (int)s / 60, (int)s % 60);
}

void sw_cli_progress_update(const sw_train_progress *tp, void *user_data)
{
    sw_cli_progress *p = user_data;
    if (p->quiet) return;
    char tok[32], bud[32], em[16], best[16], eta[16];
    sw_format_tokens(tp->tokens, tok, sizeof tok);
    sw_format_tokens(tp->budget, bud, sizeof bud);
    fmt_em(em, sizeof em, tp->val_em);
    fmt_em(best, sizeof best, tp->best_em);
    double left = tp->tokens_per_s > 0 ? (double)(tp->budget - tp->tokens) / tp->tokens_per_s : -1;
    fmt_eta(eta, sizeof eta, left);
    double frac = tp->budget ? (double)tp->tokens / (double)tp->budget : 0;
    if (p->tty) {
        char bar[21];
        int fill = (int)(frac * 20);
        for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
        bar[20] = 0;
        fprintf(stderr, "\r\033[K[%s] %s/%s %6.0f tok/s ETA %s loss %.4f EM %s best %s", bar, tok, bud,
                tp->tokens_per_s, eta, tp->train_loss, em, best);
        p->drawn = 1;
        if (tp->note) {
            fprintf(stderr, "\n  %s\n", tp->note);
            p->drawn = 0;
        }
    } else if (tp->is_eval) {
        fprintf(stderr, "tokens %s/%s (%.0f%%) step %" PRIu64 " %.0f tok/s ETA %s train_loss %.4f val_loss %.4f EM %s best %s%s%s\n",
                tok, bud, 100 * frac, tp->step, tp->tokens_per_s, eta, tp->train_loss, tp->val_loss, em, best,
                tp->note ? " | " : "", tp->note ? tp->note : "");
    }
    fflush(stderr);
}

void sw_cli_progress_done(sw_cli_progress *p)
{
    if (p->drawn) fputc('\n', stderr);
    p->drawn = 0;
}
