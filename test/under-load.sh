#!/usr/bin/env bash
# The suite under load: `npm test` RUNS times in a row (default 3) while HOGS CPU-bound processes
# (default 2, one per core of a CI machine) spin alongside, the way CI's shared cores can look on
# a busy day. Prints each run's wall time and result; exits non-zero if any run failed.
# Logs: bench/results/under-load-<n>.log (git-ignored).
#   test/under-load.sh            # 3 runs, 2 hogs
#   RUNS=1 HOGS=4 test/under-load.sh
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
hogs=${HOGS:-2}
mkdir -p bench/results

pids=()
stop_hogs() {
  # Only the processes this script started, by pid.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap stop_hogs EXIT INT TERM
for _ in $(seq "$hogs"); do
  node -e 'for (;;) {}' &
  pids+=($!)
done

failed=0
for n in $(seq "$runs"); do
  log=bench/results/under-load-$n.log
  start=$(date +%s)
  npm test >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  # test/run.mjs closes with "tests: N passed, M failed, K skipped".
  counts=$(grep -E '^tests: [0-9]+ passed' "$log" | tail -n 1)
  pass=$(sed -E 's/^tests: ([0-9]+) passed.*/\1/' <<<"$counts")
  fail=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$counts")
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  printf 'under load (%s hogs): run %s of %s: exit %s, %s s, %s passed, %s failed, load average %s\n' "$hogs" "$n" "$runs" "$rc" "$secs" "${pass:-?}" "${fail:-?}" "$load"
  [ "$rc" = 0 ] || failed=1
done
exit $failed
