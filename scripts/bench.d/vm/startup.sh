# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# The cgroup v2 start-up bench, run by `scripts/bench --vm` as the only
# scenario of a vm-test guest (scripts/vm/init sources scripts/vm/lib.sh
# first): tinyrun and the C floor start busybox /bin/true from /rootfs, with
# and without a pids limit, on a host where cgroup v2 is the only hierarchy.
# With --pids-max tinyrun creates its child inside the cgroup with
# clone3(CLONE_INTO_CGROUP); the floor, and tinyrun with TINYRUN_NO_CLONE3=1,
# clone(2) and then write the pid to cgroup.procs, a migration whose first
# occurrence after idling waits for an RCU grace period.
#
# In the guest (put there with vm-test --add): /bin/floor, /bin/vmtime (both
# from scripts/bench.d) and /vm/bench-params.sh, which sets ROUNDS, IDLE_MS
# and B2B_RUNS. Output, in this scenario's log (vm-test --save-logs), one
# fact a line for scripts/bench.d/helper.py vmreport:
#   param NAME VALUE      what the guest ran with
#   cmd ID COMMAND...     each contender's command line
#   trace ID LINE         tinyrun --trace lines about how the child was made
#   run MODE ID US        one timed start, MODE idle or b2b, in microseconds
# Progress goes to /dev/console, live on the host's terminal.

# shellcheck source=/dev/null
. /vm/bench-params.sh
FLOOR=/bin/floor
VMTIME=/bin/vmtime
say() { echo "vmbench: $*" >/dev/console; }

# The contenders, in table order. IDs match helper.py's VM_LABELS.
IDS="floor tinyrun floor-pids tinyrun-pids tinyrun-pids-noclone3"
cmd_of() {
    case $1 in
        floor) echo "$FLOOR $ROOTFS /bin/true" ;;
        tinyrun) echo "$TR run --rootfs $ROOTFS /bin/true" ;;
        floor-pids) echo "$FLOOR --pids-max 20 $ROOTFS /bin/true" ;;
        tinyrun-pids) echo "$TR run --rootfs $ROOTFS --pids-max 20 /bin/true" ;;
        tinyrun-pids-noclone3) echo "TINYRUN_NO_CLONE3=1 $TR run --rootfs $ROOTFS --pids-max 20 /bin/true" ;;
    esac
}

echo "param kernel $(uname -r)"
echo "param cpus $(grep -c ^processor /proc/cpuinfo)"
echo "param rounds $ROUNDS"
echo "param idle_ms $IDLE_MS"
echo "param b2b_runs $B2B_RUNS"
echo "param cgroup $(grep ' /sys/fs/cgroup ' /proc/mounts | cut -d' ' -f3) $(cat "$CG/cgroup.subtree_control")"
for id in $IDS; do echo "cmd $id $(cmd_of "$id")"; done

# ---- checks, untimed -----------------------------------------------------------
say "checks"
for id in $IDS; do
    # shellcheck disable=SC2046 # the command line is meant to split
    cap env $(cmd_of "$id")
    want_rc 0
done
no_cgroups_left "the contenders' first runs"

# The floor's cgroup on a v2-only host: /floor-PID under the root, with the
# pids limit in force (tinyrun's own are checked by scenarios 60 and 70).
cap "$FLOOR" --pids-max 20 "$ROOTFS" /bin/cat /proc/self/cgroup
want_rc 0
echo "$OUT" | grep -qx '0::/floor-[0-9]*' || fail "$CMD: the floor's child is in '$(oneline "$OUT")', want 0::/floor-PID"
# (A pipeline: the floor makes no /dev, and busybox sh wants /dev/null for
# `cmd &`.)
forks='sleep 1 | sleep 1 | sleep 1 | sleep 1 | sleep 1 | sleep 1 | sleep 1 | sleep 1'
cap "$FLOOR" --pids-max 5 "$ROOTFS" /bin/sh -c "$forks"
[ "$RC" != 0 ] || fail "$CMD: a pipeline of 8 sleeps ran under the floor's pids limit 5"
want_err_match 'fork|resource temporarily unavailable' "a failed fork"
no_cgroups_left "the floor's checks"

# How tinyrun made its child: clone3 into the cgroup by default, clone(2)
# plus a cgroup.procs write with the switch, plain clone(2) without limits.
# Host-side trace lines start "tinyrun: " (the container's init says
# "tinyrun[1]: ").
trace_of() { # ID: trace the contender once; leaves its trace lines in T
    # shellcheck disable=SC2046
    cap env $(cmd_of "$1" | sed 's| run | run --trace |')
    want_rc 0
    T=$(echo "$ERR" | grep -E '^tinyrun: (clone|clone3)\(|^tinyrun: write\(.*cgroup\.procs|^tinyrun: no clone3')
    echo "$T" | sed "s/^/trace $1 /"
}
trace_of tinyrun-pids
echo "$T" | grep -Eq '^tinyrun: clone3\(.*CLONE_INTO_CGROUP\) = [0-9]+$' ||
    fail "tinyrun --pids-max 20 did not start its child with clone3(CLONE_INTO_CGROUP)$(errtail)"
! echo "$T" | grep -Eq '^tinyrun: clone\(|cgroup\.procs' ||
    fail "tinyrun --pids-max 20 used clone(2) or cgroup.procs though clone3 worked: $(oneline "$T")"
trace_of tinyrun-pids-noclone3
echo "$T" | grep -Eq '^tinyrun: clone\(.*\) = [0-9]+$' ||
    fail "TINYRUN_NO_CLONE3=1 tinyrun --pids-max 20 did not use clone(2)$(errtail)"
echo "$T" | grep -Eq '^tinyrun: write\(.*/cgroup\.procs' ||
    fail "TINYRUN_NO_CLONE3=1 tinyrun --pids-max 20 wrote no cgroup.procs$(errtail)"
! echo "$T" | grep -q 'clone3(' ||
    fail "TINYRUN_NO_CLONE3=1 tinyrun --pids-max 20 still tried clone3: $(oneline "$T")"
trace_of tinyrun
echo "$T" | grep -Eq '^tinyrun: clone\(.*\) = [0-9]+$' ||
    fail "tinyrun without limits did not use clone(2)$(errtail)"
no_cgroups_left "the traced runs"

# ---- timing ----------------------------------------------------------------------
# Rounds; in each, every contender in turn (the order rotated per round, so
# that nobody always follows the same one): one start after IDLE_MS of
# sleep, then, later in the round, B2B_RUNS starts back to back after an
# untimed warm-up start.
rotate() { # K WORDS...: WORDS rotated left by K
    _k=$1
    shift
    _k=$((_k % $#))
    while [ "$_k" -gt 0 ]; do
        _w=$1
        shift
        set -- "$@" "$_w"
        _k=$((_k - 1))
    done
    echo "$@"
}
r=0
while [ "$r" -lt "$ROUNDS" ]; do
    r=$((r + 1))
    say "round $r/$ROUNDS"
    # shellcheck disable=SC2086
    order=$(rotate "$r" $IDS)
    for mode in idle b2b; do
        for id in $order; do
            if [ $mode = idle ]; then
                set -- 1 "$IDLE_MS"
            else
                set -- -w 1 "$B2B_RUNS" 0
            fi
            # shellcheck disable=SC2046
            "$VMTIME" "$@" $(cmd_of "$id") </dev/null >"$VM_WORK/times" 2>"$VM_WORK/err" ||
                fail "vmtime $* $(cmd_of "$id") failed: $(oneline "$(cat "$VM_WORK/err")")"
            sed "s/^/run $mode $id /" "$VM_WORK/times"
        done
    done
done
no_cgroups_left "the timed runs"
say "done"
