# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# The guest is what the scenarios assume (no tinyrun involved): a
# cgroup2-only host, an initramfs root where pivot_root(2) fails, and no
# /etc or /tmp. A failure here is the harness's, not tinyrun's.

step "kernel $(uname -r)"
uname -r | grep -q . || fail "uname -r printed nothing"

step "cgroup2 at $CG"
grep -q " $CG cgroup2 " /proc/mounts || fail "no cgroup2 mount at $CG"
for c in cpu memory pids; do
    grep -qw "$c" "$CG/cgroup.controllers" ||
        fail "controller $c not offered (cgroup.controllers: $(cat "$CG/cgroup.controllers"))"
    grep -qw "$c" "$CG/cgroup.subtree_control" ||
        fail "controller $c not enabled (cgroup.subtree_control: $(cat "$CG/cgroup.subtree_control"))"
done

step "root is the initramfs"
# The kernel's own /proc/mounts line for the initramfs: "none / rootfs ..."
grep -q '^[^ ]* / rootfs ' /proc/mounts || fail "/ is not the initramfs: $(grep ' / ' /proc/mounts)"

step "pivot_root fails with EINVAL on the initramfs"
# The reason tinyrun needs its MS_MOVE + chroot fallback (scenario
# initramfs-root); if this ever works, that scenario tests nothing.
msg=$(unshare -m sh -c 'mount --bind /rootfs /rootfs && cd /rootfs && mkdir -p .old && pivot_root . .old' 2>&1)
rmdir /rootfs/.old 2>/dev/null
echo "$msg" | grep -q 'Invalid argument' || fail "pivot_root on the initramfs did not fail with EINVAL: ${msg:-it succeeded}"

step "no /etc, no /tmp"
for d in /etc /tmp; do
    [ ! -e "$d" ] || fail "the guest has $d (scenario bare needs it absent)"
done
[ -x "$ROOTFS/bin/busybox" ] || fail "no container rootfs at $ROOTFS"
