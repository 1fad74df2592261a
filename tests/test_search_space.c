/* search/: the space file: entries, templates, domains, the canonical text,
 * the map from points to options, and every malformed line named by file
 * and line. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stopwise/search.h"

static sw_space *parse_ok(const char *text)
{
    sw_space *sp = NULL;
    sw_error e = {0};
    cr_assert_eq(sw_space_parse(text, strlen(text), "space.txt", &sp, &e), SW_OK, "%s", e.msg);
    return sp;
}

/* Parses text that must fail, and checks the message names `where`. */
static void parse_bad(const char *text, const char *where, const char *what)
{
    sw_space *sp = (sw_space *)1;
    sw_error e = {0};
    cr_assert_eq(sw_space_parse(text, strlen(text), "space.txt", &sp, &e), SW_ERR_FORMAT, "accepted:\n%s", text);
    cr_assert_null(sp);
    cr_assert(strstr(e.msg, where), "'%s' not in: %s", where, e.msg);
    cr_assert(strstr(e.msg, what), "'%s' not in: %s", what, e.msg);
}

static const char *good =
    "# a search\n"
    "data     = synthetic:copy:n=300,len=4   # fixed\n"
    "\n"
    "model    = gpt:layers={layers},d={width},heads=2\n"
    "batch    = choice(16, 32, 64)\n"
    "layers   = int(1, 4)\n"
    "width    = choice(16, 32)\n"
    "schedule = \"constant:lr={lr}\"\n"
    "lr       = range(1e-4, 1e-2, log)\n"
    "dropout  = range(0, 0.3)\n"
    "stop     = choice(none, \"patience=5,diverge\")\n";

Test(search_space, entries_options_and_dimensions)
{
    sw_space *sp = parse_ok(good);
    /* options: the names no template uses, in file order */
    cr_assert_eq(sw_space_n_options(sp), 6);
    const char *names[] = {"data", "model", "batch", "schedule", "dropout", "stop"};
    for (size_t i = 0; i < 6; i++) cr_assert_str_eq(sw_space_option_name(sp, i), names[i]);
    cr_assert_eq(sw_space_option_line(sp, 0), 2);
    cr_assert_str_eq(sw_space_option_text(sp, 0), "synthetic:copy:n=300,len=4");
    cr_assert_str_eq(sw_space_option_text(sp, 3), "constant:lr={lr}", "quotes are removed");
    cr_assert_eq(sw_space_option_dim(sp, 0), -1);
    cr_assert_geq(sw_space_option_dim(sp, 2), 0, "batch is itself a dimension");
    cr_assert_eq(sw_space_find_option(sp, "stop"), 5);
    cr_assert_eq(sw_space_find_option(sp, "layers"), -1, "a variable is no option");
    /* dimensions: every domain, variables included */
    cr_assert_eq(sw_space_n_dims(sp), 6);
    cr_assert_str_eq(sw_space_dim_name(sp, 0), "batch");
    cr_assert_eq(sw_space_dim_kind(sp, 0), SW_DIM_CHOICE);
    cr_assert_eq(sw_space_dim_n_choices(sp, 0), 3);
    cr_assert_str_eq(sw_space_dim_name(sp, 1), "layers");
    cr_assert_eq(sw_space_dim_kind(sp, 1), SW_DIM_INT);
    cr_assert_eq(sw_space_dim_lo(sp, 1), 1);
    cr_assert_eq(sw_space_dim_hi(sp, 1), 4);
    cr_assert_eq(sw_space_dim_kind(sp, 3), SW_DIM_RANGE);
    cr_assert(sw_space_dim_log(sp, 3));
    cr_assert_not(sw_space_dim_log(sp, 4));
    cr_assert_str_eq(sw_space_dim_choice(sp, 5, 1), "patience=5,diverge");
    cr_assert_eq(sw_space_dim_line(sp, 5), 11);
    sw_space_free(sp);
}

Test(search_space, canonical_text_round_trips)
{
    sw_space *sp = parse_ok(good);
    char *text = sw_space_format(sp);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "data = synthetic:copy:n=300,len=4\n"), "%s", text);
    cr_assert(strstr(text, "lr = range(0.0001, 0.01, log)\n"), "%s", text);
    cr_assert(strstr(text, "stop = choice(none, \"patience=5,diverge\")\n"), "%s", text);
    cr_assert_null(strstr(text, "#"), "comments dropped");
    /* the canonical text parses to a space with the same text */
    sw_space *again = parse_ok(text);
    char *text2 = sw_space_format(again);
    cr_assert_str_eq(text, text2);
    /* spacing and comments do not make another space */
    sw_space *spaced = parse_ok("data=synthetic:copy:n=300,len=4\nmodel = gpt:layers={layers},d={width},heads=2\n"
                                "batch=choice(16,32,64)\nlayers=int(1,4)\nwidth = choice( 16 , 32 )\n"
                                "schedule=constant:lr={lr}\nlr=range(0.0001,0.01,log)\ndropout=range(0,0.3)\n"
                                "stop=choice(none,\"patience=5,diverge\") # x\n");
    char *text3 = sw_space_format(spaced);
    cr_assert_str_eq(text, text3);
    free(text), free(text2), free(text3);
    sw_space_free(sp), sw_space_free(again), sw_space_free(spaced);
}

/* Found by fuzz_space: a large int bound printed with an exponent. */
Test(search_space, large_int_bounds_print_as_digits)
{
    sw_space *sp = parse_ok("y = int(0, 01747042746295100)\n");
    char *text = sw_space_format(sp);
    cr_assert_str_eq(text, "y = int(0, 1747042746295100)\n");
    sw_space *again = parse_ok(text);
    sw_space_free(again);
    free(text);
    sw_space_free(sp);
}

/* Found by fuzz_space: a quoted item ending in an escaped backslash, then a
 * '#' inside a later quoted item; the comment scanner took \\" for \". */
Test(search_space, escaped_backslash_before_a_quote_then_a_hash)
{
    sw_space *sp = parse_ok("w = choice(\"a(\\\\\", \"#=\") # a comment\n");
    cr_assert_eq(sw_space_dim_n_choices(sp, 0), 2);
    cr_assert_str_eq(sw_space_dim_choice(sp, 0, 0), "a(\\");
    cr_assert_str_eq(sw_space_dim_choice(sp, 0, 1), "#=");
    char *text = sw_space_format(sp);
    sw_space *again = parse_ok(text);
    char *text2 = sw_space_format(again);
    cr_assert_str_eq(text, text2);
    free(text), free(text2);
    sw_space_free(sp), sw_space_free(again);
}

Test(search_space, points_map_to_values_and_snap)
{
    sw_space *sp = parse_ok(good);
    /* batch, layers, width, lr, dropout, stop */
    double p[6] = {0.99, 0.0, 0.5, 0.5, 0.25, 0.1};
    sw_space_config c;
    sw_error e = {0};
    cr_assert_eq(sw_space_config_make(sp, p, 6, &c, &e), SW_OK, "%s", e.msg);
    cr_assert_str_eq(c.dim_values[0], "64");  /* floor(0.99 * 3) = 2 */
    cr_assert_str_eq(c.dim_values[1], "1");   /* floor(1 + 0 * 4) */
    cr_assert_str_eq(c.dim_values[2], "32");  /* floor(0.5 * 2) = 1 */
    cr_assert_str_eq(c.dim_values[3], "0.001"); /* 1e-4 (1e-2/1e-4)^0.5 */
    cr_assert_str_eq(c.dim_values[4], "0.075"); /* 0 + 0.25 * 0.3 */
    cr_assert_str_eq(c.dim_values[5], "none");
    /* the point moved to the values' coordinates: cell middles, exact reals */
    cr_assert_float_eq(p[0], 2.5 / 3, 1e-12);
    cr_assert_float_eq(p[1], 0.5 / 4, 1e-12);
    cr_assert_float_eq(p[2], 0.75, 1e-12);
    cr_assert_float_eq(p[3], 0.5, 1e-12);
    cr_assert_float_eq(p[4], 0.25, 1e-12);
    cr_assert_float_eq(p[5], 0.25, 1e-12);
    /* options with the templates filled */
    cr_assert_eq(c.n_options, 6);
    cr_assert_str_eq(c.names[1], "model");
    cr_assert_str_eq(c.values[1], "gpt:layers=1,d=32,heads=2");
    cr_assert_str_eq(c.values[3], "constant:lr=0.001");
    cr_assert_str_eq(c.values[2], "64");
    cr_assert_str_eq(c.params_json,
                     "{\"batch\": \"64\", \"layers\": 1, \"width\": \"32\", \"lr\": 0.001, \"dropout\": 0.075, "
                     "\"stop\": \"none\"}");
    /* a snapped point maps to the same configuration again */
    sw_space_config c2;
    cr_assert_eq(sw_space_config_make(sp, p, 6, &c2, &e), SW_OK);
    cr_assert_str_eq(c.params_json, c2.params_json);
    sw_space_config_clear(&c2);
    sw_space_config_clear(&c);
    /* reals keep 4 significant digits; the top of an int range is reachable */
    double q[6] = {0, 0.999999, 0, 0.123456, 0.999999, 0};
    cr_assert_eq(sw_space_config_make(sp, q, 6, &c, &e), SW_OK);
    cr_assert_str_eq(c.dim_values[1], "4");
    cr_assert_str_eq(c.dim_values[3], "0.0001766"); /* 1e-4 * 100^0.123456 = 1.7657e-4 */
    cr_assert_str_eq(c.dim_values[4], "0.3");
    sw_space_config_clear(&c);
    /* a wrong point size is refused */
    cr_assert_eq(sw_space_config_make(sp, q, 5, &c, &e), SW_ERR_INVALID);
    sw_space_free(sp);
}

Test(search_space, log_int_range)
{
    sw_space *sp = parse_ok("data = x\nbatch = int(8, 128, log)\n");
    /* floor(8 (129/8)^u): u = 0 -> 8, u -> 1 -> 128, u = 0.5 -> floor(32.1) = 32 */
    double us[] = {0, 0.5, 0.9999999};
    const char *want[] = {"8", "32", "128"};
    for (int i = 0; i < 3; i++) {
        sw_space_config c;
        double p = us[i];
        cr_assert_eq(sw_space_config_make(sp, &p, 1, &c, NULL), SW_OK);
        cr_assert_str_eq(c.values[1], want[i], "u = %g", us[i]);
        sw_space_config_clear(&c);
    }
    sw_space_free(sp);
}

Test(search_space, malformed_lines_name_file_and_line)
{
    parse_bad("data = x\nmodel gpt\n", "space.txt:2:", "expected NAME = VALUE");
    parse_bad("data = x\n3lr = 1\n", "space.txt:2:", "not a name");
    parse_bad("data = x\nbatch =   \n", "space.txt:2:", "no value");
    parse_bad("data = x\n\nbatch = 1\nbatch = 2\n", "space.txt:4:", "set twice (first on line 3)");
    parse_bad("data = x\nmodel = gpt:d={width}\n", "space.txt:2:", "{width} names nothing");
    parse_bad("data = x\nmodel = gpt:d={width\n", "space.txt:2:", "without '}'");
    parse_bad("data = x\nmodel = gpt:d={}\n", "space.txt:2:", "needs a name");
    parse_bad("data = \"x\n", "space.txt:1:", "unterminated quote");
    parse_bad("data = x\nbatch = choice(16)\n", "space.txt:2:", "at least two items");
    parse_bad("data = x\nbatch = choice(16, 16)\n", "space.txt:2:", "listed twice");
    parse_bad("data = x\nbatch = choice(16, , 32)\n", "space.txt:2:", "empty item");
    parse_bad("data = x\nlr = range(0.1)\n", "space.txt:2:", "two bounds");
    parse_bad("data = x\nlr = range(0.1, 0.01)\n", "space.txt:2:", "LO < HI");
    parse_bad("data = x\nlr = range(0, 1, log)\n", "space.txt:2:", "0 < LO");
    parse_bad("data = x\nlr = range(0, 1, ln)\n", "space.txt:2:", "can only be log");
    parse_bad("data = x\nlr = range(a, 1)\n", "space.txt:2:", "'a': a number is expected");
    parse_bad("data = x\nbatch = int(1.5, 8)\n", "space.txt:2:", "a whole number is expected");
    parse_bad("data = x\nbatch = int(1, 8, log, 2)\n", "space.txt:2:", "too many arguments");
    parse_bad("data = x\nbatch = int(1, 8\n", "space.txt:2:", "must end with ')'");
    parse_bad("data = x\nw = {v}\nv = 3\nmodel = gpt:d={w}\n", "space.txt:2:", "cannot hold {NAME}");
    parse_bad("# only a comment\n\n", "space.txt", "no entries");
}

Test(search_space, token_suffixes_and_constant_variables)
{
    sw_space *sp = parse_ok("data = x\neval-every = int(1k, 4k)\nw = 16\nmodel = gpt:d={w}\n");
    cr_assert_eq(sw_space_dim_lo(sp, 0), 1000);
    cr_assert_eq(sw_space_dim_hi(sp, 0), 4000);
    double p = 0;
    sw_space_config c;
    cr_assert_eq(sw_space_config_make(sp, &p, 1, &c, NULL), SW_OK);
    cr_assert_str_eq(c.values[2], "gpt:d=16", "a variable may be a constant");
    sw_space_config_clear(&c);
    sw_space_free(sp);
}

Test(search_space, reads_files_and_names_them)
{
    sw_space *sp;
    sw_error e = {0};
    cr_assert_eq(sw_space_read("/nonexistent/space.txt", &sp, &e), SW_ERR_NOT_FOUND);
    cr_assert(strstr(e.msg, "/nonexistent/space.txt"), "%s", e.msg);
}
