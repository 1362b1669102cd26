#!/usr/bin/env bash
# Provision a Debian 13 machine for tailcalls, as root: the README's set-up. The lima template next to
# this file (tailcalls.yaml) runs it at every boot of the VM; test/fresh/run.mjs runs it in its fresh
# Debian 13 root filesystem, so this exact script is what the fresh-machine test checks.
#
#   provision.sh [REPO]    REPO: the repository to clone, a path or a git URL. Default: $PARAM_REPO
#                          (lima passes the template's `param: REPO` so), else $TAILCALLS_REPO.
#   TAILCALLS_DEST         where the clone goes (default /root/tailcalls).
#
# Steps: bpffs on /sys/fs/bpf, git, a clone of REPO (kept when it is already there), bin/setup.
# Idempotent: lima runs it again at each boot, and bin/setup installs only what is missing.
set -euo pipefail

say() { printf 'provision: %s\n' "$*" >&2; }
repo=${1:-${PARAM_REPO:-${TAILCALLS_REPO:-}}}
dest=${TAILCALLS_DEST:-/root/tailcalls}

if [ "$(id -u)" != 0 ]; then
  say "run this as root (it installs Debian packages and mounts bpffs)"
  exit 1
fi

# systemd mounts bpffs at boot; a machine without it (a container, a chroot) may not have.
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
  say "mounting bpffs on /sys/fs/bpf"
  mkdir -p /sys/fs/bpf
  mount -t bpf bpf /sys/fs/bpf
fi

if ! command -v git >/dev/null 2>&1; then
  say "installing git"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null
fi

if [ ! -e "$dest/.git" ]; then
  if [ -z "$repo" ]; then
    say "no repository to clone: give one (a path or a git URL) as the argument, or as the lima template's param REPO (README: On macOS)"
    exit 1
  fi
  say "cloning $repo into $dest"
  # A checkout shared from the host (lima's mount) belongs to another uid, which git refuses to read
  # from unless it is named as safe.
  git -c safe.directory="$repo" -c safe.directory="$repo/.git" clone -q "$repo" "$dest"
fi

cd "$dest"
bin/setup
say "ready: cd $dest && bin/run.js load"
