#!/bin/sh
# Recipe search against Optuna (issue 12): the same space (bench/search/TASK.txt),
# the same trainer (`stopwise train`) and the same total tokens per study, 3
# repetitions: stopwise search (TPE + asha, TPE + its policy pruner) against
# Optuna's TPE + MedianPruner and TPE + HyperbandPruner (Debian's
# python3-optuna). Per study: tokens until the best so far is within 0.5 EM
# of the best configuration any study found, and the final test EM; then
# trials per hour of one study with 1, 2 and 4 workers. bench/search.py says
# how each is measured.
#
#   bench/search.sh [TASK] [search.py options]     TASK: tiny (seconds),
#                                                  fashion-mnist (default), cmudict
#   e.g. bench/search.sh fashion-mnist --reps 3 --scaling 1,2,4
# Environment: STOPWISE (default build/stopwise), POLICY (the policy pruner's
# policy; default auto, the policy `stopwise tune` stored for the task).
# Writes bench/results/search-TASK.json; the trials' folders and stores go
# under bench/results/search/TASK/. A finished study is kept there
# (METHOD-REP/study.json), so an interrupted benchmark run again with the same
# options goes on with the next study.
set -eu
cd "$(dirname "$0")/.."
STOPWISE=${STOPWISE:-build/stopwise}
task=${1:-fashion-mnist}
[ $# -gt 0 ] && shift
exec /usr/bin/python3 bench/search.py "$task" --stopwise "$STOPWISE" "$@"
