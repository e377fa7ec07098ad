# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# No cgroup without limit flags; with them, tinyrun-<pid> under the caller's
# cgroup holding the container but not tinyrun, and removed on every way
# out: success, exit code, exec failure, signal, setup error, SIGTERM.

step "no limits: no cgroup"
"$TR" run --rootfs "$ROOTFS" sleep 1 </dev/null >/dev/null 2>&1 &
tp=$!
usleep 500000
left=$(child_cgroups | tr '\n' ' ')
wait "$tp"
[ -z "$left" ] || fail "without limit flags tinyrun made cgroup(s): $left"

step "tinyrun-<pid> while running"
"$TR" run --rootfs "$ROOTFS" --pids-max 10 sleep 2 </dev/null >/dev/null 2>"$VM_WORK/err" &
tp=$!
g=$CG/tinyrun-$tp
wait_for_procs "$g" 20 || fail "no $g holding a process while tinyrun ran (have: $(child_cgroups | tr '\n' ' '))"
procs=$(tr '\n' ' ' <"$g/cgroup.procs")
read -r self_cg <"/proc/$tp/cgroup"
wait "$tp"
rc=$?
case " $procs" in *" $tp "*) fail "tinyrun itself ($tp) is inside $g" ;; esac
[ "$self_cg" = "0::/" ] || fail "tinyrun moved itself to $self_cg"
[ "$rc" = 0 ] || fail "tinyrun --pids-max 10 sleep 2 exited $rc$(ERR=$(cat "$VM_WORK/err"); errtail)"
no_cgroups_left "tinyrun --pids-max 10 sleep 2"

tr_run --pids-max 10 true
want_rc 0
no_cgroups_left "$CMD"
tr_run --pids-max 10 --memory 64m --cpus 1 sh -c 'exit 3'
want_rc 3
no_cgroups_left "$CMD"
tr_run --pids-max 10 nonexistent-cmd
want_rc 127
no_cgroups_left "$CMD"
tr_run --memory 64m sh -c 'kill -9 $$'
want_rc 137
no_cgroups_left "$CMD"
cap "$TR" run --rootfs /nonexistent --pids-max 10 true
want_rc 125
no_cgroups_left "$CMD"
tr_run --pids-max 10 --cgroup named true
want_rc 0
no_cgroups_left "$CMD"

step "SIGTERM to tinyrun"
"$TR" run --rootfs "$ROOTFS" --pids-max 10 sleep 30 </dev/null >/dev/null 2>"$VM_WORK/err" &
tp=$!
wait_for_procs "$CG/tinyrun-$tp" 20 || fail "no $CG/tinyrun-$tp holding a process while tinyrun ran"
kill -TERM "$tp"
for i in $(seq 50); do alive "$tp" || break; usleep 100000; done
alive "$tp" && fail "tinyrun --pids-max 10 sleep 30 still running 5 s after SIGTERM"
wait "$tp"
rc=$?
[ "$rc" = 143 ] || fail "tinyrun killed by SIGTERM exited $rc, want 143"
no_cgroups_left "SIGTERM to tinyrun"
