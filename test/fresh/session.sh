#!/bin/bash
# One fresh machine, as its user meets it. test/fresh/run.mjs copies this into a fresh Debian root
# and runs it there as root (chroot): it gets the repository, runs the README's two commands and
# whatever the README tells a user to do on the way, and records what happened in /root/fresh-out
# for the runner to judge. It judges nothing itself and goes on after a failed step, so the report
# shows every step.
#
# Environment (set by the runner):
#   FRESH_RELEASE   bookworm | trixie
#   FRESH_REPO      the repository to clone (a bare copy of the checkout's HEAD, under /srv)
#   FRESH_NODE      Debian 12 only: the README's Node steps, with the download replaced (/srv/node-steps.sh)
#   FRESH_SETUP_ONLY=1  stop after the first README command (no `npm test`)
set -uo pipefail

OUT=/root/fresh-out
DEST=/root/tailcalls
mkdir -p "$OUT"

mark() { printf '@@FRESH %s\n' "$*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
t_start=$(now_ms)

# step NAME CMD...: run one step, timed, its exit code and duration as a marker line.
step() {
  local name=$1 t0 rc
  shift
  mark "{\"begin\":\"$name\",\"at_ms\":$(($(now_ms) - t_start))}"
  t0=$(now_ms)
  "$@"
  rc=$?
  mark "{\"step\":\"$name\",\"rc\":$rc,\"ms\":$(($(now_ms) - t0)),\"at_ms\":$(($(now_ms) - t_start))}"
  return $rc
}

snapshot() { dpkg-query -W -f='${Package}\t${Version}\t${Installed-Size}\n' | sort >"$OUT/dpkg-$1.tsv"; }

# The README's first command, `bin/setup && bin/run.js load`, as typed in a terminal: it runs in its
# own process group, and once the chain has shown a whole exec (prog1..prog3) it gets Ctrl-C, a
# SIGINT to that group. Execs come from this loop (bounded in count) and from anything else running.
readme_load() {
  local name=$1 pid rc execs=0 ready=
  cd "$DEST" || return 1
  set -m
  bash -c 'bin/setup && bin/run.js load' >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" &
  pid=$!
  set +m
  echo "$pid" >"$OUT/$name.pgid"
  while kill -0 "$pid" 2>/dev/null; do
    if [ -z "$ready" ] && grep -q '^setup: ready' "$OUT/$name.stderr"; then
      ready=1
      mark "{\"ready\":\"$name\",\"at_ms\":$(($(now_ms) - t_start))}"
    fi
    grep -q '\[prog3\]' "$OUT/$name.stdout" && break
    if grep -q 'Waiting for Ctrl-C' "$OUT/$name.stderr"; then
      execs=$((execs + 1))
      [ "$execs" -gt 500 ] && break
      /bin/true
    fi
    sleep 0.2
  done
  kill -INT -- "-$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  rm -f "$OUT/$name.pgid"
  echo "--- $name: stderr (last lines)"
  tail -n 5 "$OUT/$name.stderr"
  echo "--- $name: stdout (first lines)"
  head -n 6 "$OUT/$name.stdout"
  return $rc
}

# The getting of the repository: what a user does before the README's commands.
get_repo() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null &&
    git clone -q "$FRESH_REPO" "$DEST"
}

node_steps() { bash -ex "$FRESH_NODE"; }

npm_test() {
  cd "$DEST" || return 1
  npm test 2>&1 | tee "$OUT/npm-test.log"
}

versions() {
  {
    echo "node $(node --version 2>/dev/null)"
    echo "npm $(npm --version 2>/dev/null)"
    echo "bpftool $(bpftool version 2>/dev/null | tr '\n' ' ')"
    echo "clang $(clang --version 2>/dev/null | head -n 1)"
    echo "debian $(cat /etc/debian_version)"
  } >"$OUT/versions.txt"
  cat "$OUT/versions.txt"
}

snapshot base
case "$FRESH_RELEASE" in
  trixie)
    # Debian 13: the lima template's provisioning script does the set-up (git, clone, bin/setup).
    step provision env PARAM_REPO="$FRESH_REPO" TAILCALLS_DEST="$DEST" /srv/provision.sh
    ;;
  *)
    step get-repo get_repo
    snapshot repo
    # Debian 12: bin/setup stops at Node (18 is too old) and says what to do; the README says how.
    step readme-1-first readme_load readme-1-first
    step node node_steps
    ;;
esac
step readme-1 readme_load readme-1
snapshot setup
versions
if [ "${FRESH_SETUP_ONLY:-}" != 1 ]; then
  step readme-2 npm_test
fi
snapshot end
mark '{"done":true}'
