# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# A fork bomb under --pids-max 20 stays at 20 tasks, the guest stays
# responsive, and the named cgroup goes away with the container.

g=$CG/bomb
step "fork bomb in the background"
# sleep starts before the bomb: once the bomb fills pids.max, sh could not
# fork it and would exit 2 ("can't fork").
"$TR" run --rootfs "$ROOTFS" --pids-max 20 --cgroup bomb \
    sh -c 'sleep 3 & s=$!; (f(){ f|f& }; f) 2>/dev/null; wait $s' \
    </dev/null >"$VM_WORK/out" 2>"$VM_WORK/err" &
tp=$!

wait_for_procs "$g" 50 || fail "$g never held a process$(ERR=$(cat "$VM_WORK/err"); errtail)"
# Poll for up to 4 s while the guest itself keeps forking (usleep, cat); the
# time per poll shows whether it stayed responsive.
max=0 polls=0 events='' limit=''
read -r t0 _ </proc/uptime
for i in $(seq 40); do
    alive "$tp" || break
    read -r cur <"$g/pids.current" 2>/dev/null || break
    read -r limit <"$g/pids.max" 2>/dev/null
    # The container may end (and its cgroup go) between two reads: keep
    # what was read while it was there.
    e=$(cat "$g/pids.events" 2>/dev/null) && events=$e
    [ "$cur" -le "$max" ] || max=$cur
    polls=$((polls + 1))
    usleep 100000
done
read -r t1 _ </proc/uptime
t0=${t0%.*}${t0#*.} t1=${t1%.*}${t1#*.} # centiseconds
per_poll=$(((t1 - t0) * 10 / (polls > 0 ? polls : 1)))
echo "polls=$polls (${per_poll} ms each) max=$max pids.max=$limit pids.events: $events"

step "stopping tinyrun"
if alive "$tp"; then kill -TERM "$tp"; fi
for i in $(seq 50); do alive "$tp" || break; usleep 100000; done
alive "$tp" && fail "tinyrun still running 5 s after SIGTERM"
wait "$tp"
rc=$?
ERR=$(cat "$VM_WORK/err")

[ "$limit" = 20 ] || fail "pids.max of $g was '$limit', want 20"
[ "$max" -le 20 ] || fail "pids.current reached $max, over pids.max 20"
echo "$events" | grep -q '^max [1-9]' || fail "pids.events shows no refused fork: '$events'"
[ "$per_poll" -le 500 ] || fail "the guest was sluggish during the bomb: ${per_poll} ms per 100 ms poll"
[ "$rc" = 0 ] || [ "$rc" = 143 ] || fail "tinyrun exited $rc, want 0 or 143$(errtail)"
for i in $(seq 20); do [ -e "$g" ] || break; usleep 100000; done
[ ! -e "$g" ] || fail "$g still exists after tinyrun exited"
