#!/bin/bash
# Enter a fresh root filesystem and run one command there as root, with the kernel's interfaces
# the tests need: /proc, /sys (with /sys/kernel/btf), a bpffs of its own on /sys/fs/bpf, /dev, a
# tmpfs /run. test/fresh/run.mjs starts this under `unshare --mount --propagation private`, so
# every mount here lives in a mount namespace of its own: the host never sees them, and they go
# away with the namespace even if this script is killed. They are unmounted here anyway, in
# reverse order, when the command ends or fails.
#
#   enter.sh ROOT [--bind HOSTDIR:ROOTDIR]... -- COMMAND...
set -euo pipefail

root=$1
shift
binds=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  case $1 in
    --bind)
      binds+=("$2")
      shift 2
      ;;
    *)
      echo "enter.sh: unknown option $1" >&2
      exit 2
      ;;
  esac
done
shift # --

mounted=()
on() { # on TARGET MOUNT-ARGS...
  local target=$1
  shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounted+=("$target")
}
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[i]}" 2>/dev/null || umount -R -l "${mounted[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT

# The namespace is private already; make sure nothing mounted here propagates to the host.
mount --make-rprivate /

# The root a mount of its own, as / is on a machine: tools that change the propagation of / (the
# suite's `unshare --mount --propagation private`) fail with EINVAL on a plain directory.
on "$root" --bind "$root"
on "$root/proc" -t proc proc
on "$root/sys" --rbind /sys
mount --make-rslave "$root/sys"
# A bpffs instance of the root's own, the only one on /sys/fs/bpf (the host's, which came with
# /sys, is taken off first: two stacked there would list every pin twice): pins made in the root
# stay in the root.
while [ "$(stat -f -c %T "$root/sys/fs/bpf" 2>/dev/null)" = bpf_fs ]; do
  umount "$root/sys/fs/bpf"
done
on "$root/sys/fs/bpf" -t bpf bpf
on "$root/dev" --rbind /dev
mount --make-rslave "$root/dev"
on "$root/run" -t tmpfs -o mode=755 tmpfs
for b in "${binds[@]}"; do
  on "$root/${b#*:}" --bind "${b%%:*}"
done

[ -e "$root/sys/kernel/btf/vmlinux" ] || echo "enter.sh: no /sys/kernel/btf/vmlinux in the root" >&2

set +e
chroot "$root" "$@"
rc=$?
exit $rc
