/* The stopwise commands; each lives in its own cmd_<name>.c and receives
 * argv with argv[0] = its own name. Each returns the process exit code. */
#ifndef SW_CLI_COMMANDS_H
#define SW_CLI_COMMANDS_H

int sw_cmd_train(int argc, char **argv);
int sw_cmd_eval(int argc, char **argv);
int sw_cmd_predict(int argc, char **argv);
int sw_cmd_replay(int argc, char **argv);
int sw_cmd_tune(int argc, char **argv);
int sw_cmd_runs(int argc, char **argv);
int sw_cmd_ui(int argc, char **argv);
int sw_cmd_report(int argc, char **argv);
int sw_cmd_select_features(int argc, char **argv);
int sw_cmd_search(int argc, char **argv);
int sw_cmd_prune(int argc, char **argv);

#endif
