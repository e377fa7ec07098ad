# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# --cpus 0.5 sets cpu.max "50000 100000", and a busy loop running for 1 s of
# wall time gets 0.3-0.7 s of CPU (utime+stime from /proc/PID/stat, in
# 100 Hz ticks; unthrottled it gets ~100).

"$TR" run --rootfs "$ROOTFS" --cpus 0.5 --cgroup cpuchk sh -c '
    while :; do :; done & p=$!
    sleep 1
    set -- $(cat /proc/$p/stat)
    kill $p
    echo $((${14} + ${15}))' </dev/null >"$VM_WORK/out" 2>"$VM_WORK/err" &
tp=$!
step "cpu.max while running"
wait_for_procs "$CG/cpuchk" 20 || fail "$CG/cpuchk never held a process$(ERR=$(cat "$VM_WORK/err"); errtail)"
read -r v <"$CG/cpuchk/cpu.max"
wait "$tp"
rc=$?
ERR=$(cat "$VM_WORK/err")
t=$(cat "$VM_WORK/out")
echo "cpu.max=$v ticks=$t"
[ "$v" = "50000 100000" ] || fail "cpu.max for --cpus 0.5 is '$v', want '50000 100000'"
[ "$rc" = 0 ] || fail "the busy-loop container exited $rc$(errtail)"
case $t in '' | *[!0-9]*) fail "the busy-loop container printed '$(oneline "$t")', not a tick count$(errtail)" ;; esac
if [ "$t" -lt 30 ] || [ "$t" -gt 70 ]; then
    fail "a busy loop under --cpus 0.5 got $t ticks in 1 s, want 30..70"
fi
