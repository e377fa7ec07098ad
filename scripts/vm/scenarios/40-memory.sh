# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# --memory sets memory.max, and a container over it is OOM-killed: exit 137
# and, under --trace, a word about it from tinyrun.

step "memory.max while running"
"$TR" run --rootfs "$ROOTFS" --memory 32m --cgroup memchk sleep 2 \
    </dev/null >/dev/null 2>"$VM_WORK/err" &
tp=$!
wait_for_procs "$CG/memchk" 20 || fail "$CG/memchk never held a process$(ERR=$(cat "$VM_WORK/err"); errtail)"
read -r v <"$CG/memchk/memory.max"
[ "$v" = 33554432 ] || fail "memory.max for --memory 32m is $v, want 33554432"
wait "$tp" || fail "tinyrun --memory 32m sleep 2 failed$(ERR=$(cat "$VM_WORK/err"); errtail)"

tr_run --memory 32m --trace tail /dev/zero
want_rc 137
want_err_match 'oom|out of memory' "the OOM kill"
tr_run --memory 32m sh -c 'tail /dev/zero'
want_rc 137
