# Sourced by bench/features.sh and bench/batch.sh: records a run the way
# bench/levers.sh does (its curve and --json result, plus the best
# checkpoint's parameter count, under RESULTS/curves/levers-TASK/SLUG/), so
# bench/levers.py makes their tables in the levers table's form, and their
# settings can join levers.sh's list as they are. Needs STOPWISE and THREADS.

# The folder name levers.py gives a (lever, setting).
lever_slug() { printf '%s-%s' "$1" "$2" | tr ' =+,:' '_____' | tr -s '_'; }

# lever_record RESULTS TASK SLUG SEED DATA [OPTIONS...]: skipped when recorded.
lever_record() {
    _results=$1 _task=$2 _slug=$3 _seed=$4 _data=$5
    shift 5
    _dir=$_results/curves/levers-$_task/$_slug
    [ -s "$_dir/seed-$_seed.csv" ] && [ -s "$_dir/seed-$_seed.json" ] && return 0
    mkdir -p "$_dir" "$_results/runs"
    _out=$_results/runs/levers-$_task-$_slug-seed-$_seed
    rm -rf "$_out"
    echo "$_task $_slug seed $_seed from $(date +%H:%M:%S)" >&2
    nice -n 15 "$STOPWISE" train --data "$_data" --seed "$_seed" --threads "$THREADS" --no-store --stop none \
        --out "$_out" --quiet --json "$@" < /dev/null > "$_out.json"
    /usr/bin/python3 bench/levers.py --params "$_out/best.safetensors" < /dev/null > "$_out.params"
    cp "$_out/curve.csv" "$_dir/seed-$_seed.csv.tmp" && mv "$_dir/seed-$_seed.csv.tmp" "$_dir/seed-$_seed.csv"
    /usr/bin/python3 -c '
import json, os, sys
r = json.load(open(sys.argv[1]))
r["params"] = int(open(sys.argv[2]).read())
json.dump(r, open(sys.argv[3] + ".tmp", "w"))
os.replace(sys.argv[3] + ".tmp", sys.argv[3])' "$_out.json" "$_out.params" "$_dir/seed-$_seed.json"
}
