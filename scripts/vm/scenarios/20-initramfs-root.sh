# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# The guest's / is the initramfs, where pivot_root(2) fails with EINVAL
# (checked by scenario guest): tinyrun must fall back to MS_MOVE + chroot,
# say so under --trace, and still leave the guest's mounts alone.

mounts_before=$(cat /proc/mounts)

tr_run --trace true
want_rc 0
want_err_match chroot "the chroot fallback"

tr_run --no-pivot --trace true
want_rc 0
want_err_match chroot "chroot (--no-pivot)"

# The container sees the rootfs, not the guest's / (which has /init).
tr_run sh -c 'test -e /bin/busybox && test ! -e /init && test ! -e /rootfs'
want_rc 0
tr_run sh -c 'cd /../../.. && test ! -e init'
want_rc 0

step "guest mounts unchanged"
[ "$(cat /proc/mounts)" = "$mounts_before" ] ||
    fail "the guest's mount table changed: $(echo "$mounts_before" | diff - /proc/mounts | grep '^[-+][^-+]' | tr '\n' '|')"
