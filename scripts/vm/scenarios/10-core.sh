# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# The basics of `tinyrun run`: UTS and PID namespaces, /proc inside, the
# environment and working-directory flags, and every documented exit code.

tr_run hostname
want_out tiny-container
tr_run --hostname vmbox hostname
want_out vmbox

# tinyrun's init is PID 1, the command PID 2; with --no-init the command
# is PID 1 itself.
tr_run sh -c 'echo $$'
want_out 2
tr_run --no-init sh -c 'echo $$'
want_out 1

tr_run ps -o pid,comm
want_rc 0
echo "$OUT" | grep -q '^ *1 ' || fail "$CMD: no PID 1 listed: $(echo "$OUT" | tr '\n' '|')"
n=$(echo "$OUT" | sed 1d | wc -l)
[ "$n" -le 3 ] || fail "$CMD: $n processes visible, want at most 3 (PID namespace?): $(echo "$OUT" | tr '\n' '|')"

tr_run test -e /proc/self/stat
want_rc 0 # fails when /proc is not mounted inside

tr_run -e FOO=bar -e EMPTY= sh -c 'echo "$FOO/${EMPTY-unset}"'
want_out bar/
tr_run -w /tmp pwd
want_out /tmp
tr_run -- sh -c 'exit 3'
want_rc 3

step "exit codes"
tr_run true
want_rc 0
tr_run sh -c 'exit 7'
want_rc 7
tr_run nonexistent-cmd
want_rc 127
printf 'not a program\n' >"$ROOTFS/not-exec"
chmod 644 "$ROOTFS/not-exec"
tr_run /not-exec
rm -f "$ROOTFS/not-exec"
want_rc 126
tr_run sh -c 'kill -9 $$'
want_rc 137
cap "$TR" run --rootfs /nonexistent true
want_rc 125
