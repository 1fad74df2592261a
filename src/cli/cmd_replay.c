/* Placeholder until its issue lands: says so and fails honestly. */
#include "cli/commands.h"

#include <stdio.h>

int sw_cmd_replay(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "stopwise replay: not implemented yet\n");
    return 1;
}
