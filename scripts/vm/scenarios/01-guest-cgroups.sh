# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# The kernel enforces the limits the tinyrun scenarios rely on, using bare
# cgroupfs: memory.max OOM-kills `tail /dev/zero` (137), pids.max stops
# forks, cpu.max throttles a busy loop to about its share. If these fail, so
# will memory, forkbomb, cpus and clone3, through no fault of tinyrun.

g=$CG/vmtest-selfcheck
cleanup() { echo 1 >"$g/cgroup.kill" 2>/dev/null; usleep 100000; rmdir "$g" 2>/dev/null; }
trap cleanup EXIT
mkdir "$g" || fail "cannot mkdir $g"

step "memory.max 32M: tail /dev/zero is OOM-killed"
echo 32M >"$g/memory.max"
sh -c "echo \$\$ >$g/cgroup.procs && exec tail /dev/zero" >/dev/null 2>&1
rc=$?
[ "$rc" = 137 ] || fail "tail /dev/zero in a 32M cgroup exited $rc, want 137"
grep -q '^oom_kill [1-9]' "$g/memory.events" || fail "memory.events shows no oom_kill: $(tr '\n' ' ' <"$g/memory.events")"
echo max >"$g/memory.max"

step "pids.max 3: the 4th process cannot fork"
echo 3 >"$g/pids.max"
out=$(sh -c "echo \$\$ >$g/cgroup.procs; for i in 1 2 3 4 5; do sleep 1 & done; wait" 2>&1)
rc=$?
echo "$out"
[ "$rc" != 0 ] || fail "5 background sleeps with pids.max 3 all started"
echo "$out" | grep -qi 'fork' || fail "no fork failure reported with pids.max 3: $out"
echo max >"$g/pids.max"

step "cpu.max 50000 100000: a busy loop gets about half a CPU"
# A busy loop in the background for 1 s of wall time; its utime+stime in
# clock ticks (100 Hz). Unthrottled it would be ~100.
echo "50000 100000" >"$g/cpu.max"
t=$(sh -c ". /vm/lib.sh; echo \$\$ >$g/cgroup.procs; while :; do :; done & p=\$!; sleep 1; t=\$(cpu_ticks \$p); kill \$p; echo \$t")
echo "ticks=$t"
if [ "$t" -lt 30 ] || [ "$t" -gt 70 ]; then
    fail "busy loop under cpu.max 50000 100000 got $t ticks in 1 s, want 30..70"
fi
