# shellcheck shell=sh
# shellcheck disable=SC2016 # sh -c scripts run in the container, quoted on purpose
# tinyrun on a machine with nothing around it: no /etc and no /tmp in the
# guest (checked by scenario guest), an empty environment (no PATH, HOME,
# TERM) and / as the working directory.

cd / || fail "cd /"
cap env -i "$TR" run --rootfs "$ROOTFS" /bin/true
want_rc 0
cap env -i "$TR" run --rootfs "$ROOTFS" /bin/sh -c 'echo ok'
want_out ok
cap env -i "$TR" run --rootfs "$ROOTFS" --pids-max 10 /bin/true
want_rc 0
# A bare command name needs a default PATH from tinyrun.
cap env -i "$TR" run --rootfs "$ROOTFS" true
want_rc 0
