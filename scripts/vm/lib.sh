# Helpers for the vm-test scenarios (busybox sh). The guest's /init sources
# this before each scenario file; a scenario passes by running to its end and
# fails at the first `fail`, whose message becomes the `FAIL NAME: ...` line.
#
# Set by /init: VM_WORK (a scratch dir of this scenario; the guest has no
# /tmp on purpose) and fd 3 (where `fail` writes its reason).

TR=/bin/tinyrun
ROOTFS=/rootfs
CG=/sys/fs/cgroup

# step TEXT: logged, so a timeout or failure shows what was running.
step() { echo "--- $*"; }

fail() {
    echo "$*" >&3
    echo "FAILED: $*"
    exit 1
}

# Quoted for messages: `tinyrun run --pids-max 5 sh -c '...'`.
_desc() {
    _d=
    for _a in "$@"; do
        case $_a in
            *[!A-Za-z0-9_./=:+-]*|'') _d="$_d '$_a'" ;;
            *) _d="$_d $_a" ;;
        esac
    done
    echo "${_d# }"
}

# cap CMD...: run CMD (stdin /dev/null), leaving RC, OUT, ERR and CMD (a
# printable form of the command). OUT/ERR lose their trailing newlines.
cap() {
    CMD=$(_desc "$@")
    step "$CMD"
    "$@" >"$VM_WORK/out" 2>"$VM_WORK/err" </dev/null
    RC=$?
    OUT=$(cat "$VM_WORK/out")
    ERR=$(cat "$VM_WORK/err")
    [ -z "$OUT" ] || echo "$OUT" | sed 's/^/  out| /'
    [ -z "$ERR" ] || echo "$ERR" | sed 's/^/  err| /'
    echo "  rc=$RC"
}

# oneline TEXT: at most 3 lines of TEXT joined with |, for messages.
oneline() { echo "$1" | head -n 3 | tr '\n' '|' | sed 's/|$//'; }

# The last few lines of stderr, on one line, for failure messages.
errtail() {
    [ -n "$ERR" ] || return 0
    printf ' (stderr: %s)' "$(echo "$ERR" | tail -n 3 | tr '\n' '|' | sed 's/|$//')"
}

# tr_run ARGS...: tinyrun run --rootfs /rootfs ARGS, captured like cap.
tr_run() { cap "$TR" run --rootfs "$ROOTFS" "$@"; }

# want_rc N: the last cap exited N.
want_rc() {
    [ "$RC" = "$1" ] || fail "$CMD: exit $RC, want $1$(errtail)"
}

# want_out TEXT: the last cap exited 0 and printed exactly TEXT.
want_out() {
    want_rc 0
    [ "$OUT" = "$1" ] || fail "$CMD: printed '$(oneline "$OUT")', want '$1'"
}

# want_err_match REGEX WHAT: stderr of the last cap matches REGEX (grep -Ei).
want_err_match() {
    echo "$ERR" | grep -Eqi -- "$1" ||
        fail "$CMD: stderr does not mention $2 (/$1/)$(errtail)"
}

# The cgroups below the root, one per line (the guest makes none itself, so
# anything here belongs to a running or a leaked container).
child_cgroups() {
    for _c in "$CG"/*/; do
        [ -d "$_c" ] && basename "$_c"
    done
    return 0
}

# no_cgroups_left WHAT: no tinyrun-* (or any other) cgroup is left behind.
no_cgroups_left() {
    _left=$(child_cgroups | tr '\n' ' ')
    [ -z "$_left" ] || fail "after $1: cgroup(s) left behind in $CG: $_left"
}

# wait_for_procs DIR [TENTHS]: poll until the cgroup DIR holds a process
# (default 3 s). Its limits are only sure to be written by then: tinyrun
# makes the directory first and fills it in afterwards.
wait_for_procs() {
    _n=${2:-30}
    while ! grep -q . "$1/cgroup.procs" 2>/dev/null; do
        _n=$((_n - 1))
        [ "$_n" -gt 0 ] || return 1
        usleep 100000
    done
}

# alive PID: the process exists and is not a zombie.
alive() {
    [ -r "/proc/$1/stat" ] || return 1
    read -r _p _c _s _rest <"/proc/$1/stat" 2>/dev/null || return 1
    [ "$_s" != Z ]
}

# cpu_ticks PID: utime+stime of PID in clock ticks (USER_HZ, 100 here).
# Fields 14 and 15 of /proc/PID/stat; comm (field 2) has no spaces here.
cpu_ticks() {
    # shellcheck disable=SC2086
    set -- $(cat "/proc/$1/stat")
    shift 13
    echo $(($1 + $2))
}
