# Shared by the side-by-side benchmark scripts, sourced with the script's arguments (NEW BASE [ROUNDS]): a scratch
# folder removed on exit, the tiny train-mlp function, a JSON field reader, a median, the machine line, and
# `side_by_side MEASURE`, which calls `MEASURE WHICH BUILD` for each build in each round, alternating, each with a
# fresh CAPSIZE_HOME, and prints the load after each round.
set -euo pipefail
new=$1
base=$2
rounds=${3:-3}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tiny=(train-mlp --batch 1 --inputs 1 --hidden 1 --layers 1 --steps 1 --device cpu --memory 512)
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
p50() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
side_by_side() {
  for round in $(seq "$rounds"); do
    for which in new base; do
      local build=$new
      [[ $which == base ]] && build=$base
      export CAPSIZE_HOME=$scratch/home-$round-$which
      echo "round $round $which ($build): $("$1" "$build")"
    done
    echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
}
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
