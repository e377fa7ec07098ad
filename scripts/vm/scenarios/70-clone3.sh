# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# With limits the container starts in its cgroup through
# clone3(CLONE_INTO_CGROUP); TINYRUN_NO_CLONE3=1 forces clone(2) + a write to
# cgroup.procs, and the pids limit must hold either way. (The host side's
# trace lines start "tinyrun: "; the container's init also clones, for the
# command, and says so as "tinyrun[1]: clone(".)

tr_run --pids-max 10 --trace true
want_rc 0
want_err_match '^tinyrun: clone3\(' "clone3("
! echo "$ERR" | grep -q '^tinyrun: clone(' ||
    fail "$CMD: used clone(2) though clone3 works here: $(echo "$ERR" | grep '^tinyrun: clone(')"

cap env TINYRUN_NO_CLONE3=1 "$TR" run --rootfs "$ROOTFS" --pids-max 10 --trace true
want_rc 0
want_err_match '^tinyrun: clone\(' "clone("
! echo "$ERR" | grep -Eq 'clone3\(.*= [0-9]' ||
    fail "$CMD: clone3 still used: $(echo "$ERR" | grep 'clone3(')"

# tinyrun's init + sh + 3 sleeps fill pids.max 5: a later fork fails, and
# busybox sh then stops with "can't fork: Resource temporarily unavailable".
# Without the limit the same command succeeds.
forks='for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait'
tr_run sh -c "$forks"
want_rc 0
tr_run --pids-max 5 sh -c "$forks"
[ "$RC" != 0 ] || fail "$CMD: all 8 sleeps started under --pids-max 5"
want_err_match 'fork|resource temporarily unavailable' "a failed fork"
cap env TINYRUN_NO_CLONE3=1 "$TR" run --rootfs "$ROOTFS" --pids-max 5 sh -c "$forks"
[ "$RC" != 0 ] || fail "$CMD: all 8 sleeps started under --pids-max 5 (clone(2) path)"
want_err_match 'fork|resource temporarily unavailable' "a failed fork"
