//! The duties of pid 1, which the kernel gives to the first process of a
//! pid namespace (pid_namespaces(7)): orphans are re-parented to it and only
//! it can reap them; signals without a handler do not reach it; when it
//! exits, the kernel kills everything else in the namespace.
//!
//! A shell or a server run as pid 1 does none of this well: zombies pile up
//! and SIGTERM is ignored. So by default the container's first process stays
//! a tiny init, as tini and catatonit are: it starts the command, forwards
//! signals to it, reaps every zombie, and exits with the command's status.
//! No heap, no handlers: signals stay blocked and are taken with sigwait.

use crate::report::{self, Failure, exit_code, note, trace};
use crate::sys::{self, Pid, SigSet, Stack};
use core::ffi::c_int;

/// The signals a runtime passes on to the container, as tini does; SIGCHLD
/// is for ourselves.
pub const FORWARDED: SigSet = SigSet::of(&[
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCONT,
]);

/// Everything tinyrun keeps blocked: the forwarded signals and SIGCHLD, to
/// take them with sigwait; SIGTTOU, so that the host side may give the
/// terminal back (tcsetpgrp) from the background; and SIGPIPE, so that a
/// closed stderr fails a write instead of killing tinyrun before it has
/// removed its cgroups.
pub const BLOCKED: SigSet = SigSet(FORWARDED.0 | SigSet::of(&[libc::SIGCHLD, libc::SIGTTOU, libc::SIGPIPE]).0);

/// What `serve` waits for.
const WAITED: SigSet = SigSet(FORWARDED.0 | SigSet::of(&[libc::SIGCHLD]).0);

/// Runs as the container's pid 1: starts the command, which runs
/// `exec` (that returns only a failure, already reported), then serves
/// until the command exits.
///
/// The command is started as posix_spawn(3) does it, with clone(2)'s
/// CLONE_VM|CLONE_VFORK: it borrows our memory until its execve, so no page
/// table is copied, and we sleep until then. It runs on the free lower half
/// of our own stack (we are deep in neither).
pub fn run<F: Fn() -> Failure>(exec: F, stack: &Stack) -> ! {
    // /proc/1/exe is the tinyrun binary on the host; non-dumpable, it is
    // out of reach of unprivileged processes in the container
    // (CVE-2019-5736 was runc's binary overwritten that way).
    let r = sys::prctl(libc::PR_SET_DUMPABLE, 0);
    trace("prctl(PR_SET_DUMPABLE, 0)", &[], r.map(|_| 0));
    let flags = (libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD) as u64;
    let r = sys::clone(flags, &stack.lower_half(), command::<F>, &exec);
    // The command may have changed our shared label: it is ours again.
    report::set_container_pid(1);
    let cmd = report::must("clone(CLONE_VM|CLONE_VFORK|SIGCHLD), the command", &[], r);
    // It has its own argv now. Ours, and our environment, are the host's:
    // blank them for the container's eyes (/proc/1/cmdline, environ). Not
    // before: the command's execve read them from this very memory. (So a
    // command may glimpse them in its first instants, as it may bubblewrap's
    // whole command line in its pid 1.)
    sys::forget_strings();
    sys::exit(exit_code(serve(cmd, -1)) as i32)
}

/// The command's process, until its execve.
fn command<F: Fn() -> Failure>(exec: &F) -> c_int {
    if report::tracing() {
        report::set_container_pid(sys::getpid() as u32);
    }
    exec().0 as c_int
}

/// Serves until `pid` exits, and returns its wait status: forwards the
/// signals of FORWARDED to it, and on SIGCHLD reaps `reap`, which is `pid`
/// on the host and every child (-1) for the container's init, which has
/// the orphans of the pid namespace to bury. SIGCHLDs merge, so each one
/// reaps all that it can.
pub fn serve(pid: Pid, reap: Pid) -> c_int {
    loop {
        match sys::sigwait(&WAITED) {
            Ok(libc::SIGCHLD) => {
                // Once `pid` is gone we are done: the rest of a pid
                // namespace dies with its init.
                while let Ok((p, status)) = sys::wait4(reap, libc::WNOHANG) {
                    if p == pid {
                        let mut digits = [0u8; 20];
                        let what = signal_or_code(status);
                        note("wait4(%) = %", &[report::decimal(pid as u64, &mut digits), what.bytes()]);
                        return status;
                    }
                    if p <= 0 {
                        break;
                    }
                }
            }
            Ok(sig) => {
                let r = sys::kill(pid, sig);
                let mut digits = [0u8; 20];
                trace("kill(%, SIG%)", &[report::decimal(pid as u64, &mut digits), signal_name(sig)], r.map(|_| 0));
            }
            Err(_) => {}
        }
    }
}

/// `exited N` or `killed by SIGNAME`, for traces.
pub fn signal_or_code(status: c_int) -> report::Buf {
    let mut l = report::Buf::new();
    match status & 0x7f {
        0 => l.t("exited ").n(((status >> 8) & 0xff) as u64),
        sig => l.t("killed by SIG").s(signal_name(sig)),
    };
    l
}

/// The name of signal `sig`, from a table of fixed-width names (a table
/// of string slices would be three times its size).
pub fn signal_name(sig: c_int) -> &'static [u8] {
    const NAMES: &[u8] = b"HUP    INT    QUIT   ILL    TRAP   ABRT   BUS    FPE    KILL   USR1   SEGV   \
USR2   PIPE   ALRM   TERM   STKFLT CHLD   CONT   STOP   TSTP   TTIN   TTOU   URG    XCPU   XFSZ   VTALRM \
PROF   WINCH  IO     PWR    SYS    ";
    match sig {
        1..=31 => {
            let name = &NAMES[(sig as usize - 1) * 7..][..7];
            &name[..name.iter().position(|&b| b == b' ').unwrap_or(7)]
        }
        _ => b"a real-time signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_sets() {
        assert!(FORWARDED.has(libc::SIGTERM) && FORWARDED.has(libc::SIGWINCH));
        assert!(!FORWARDED.has(libc::SIGCHLD) && !FORWARDED.has(libc::SIGKILL));
        assert!(BLOCKED.has(libc::SIGCHLD) && BLOCKED.has(libc::SIGTTOU) && BLOCKED.has(libc::SIGINT));
        assert!(BLOCKED.has(libc::SIGPIPE) && !WAITED.has(libc::SIGPIPE));
    }

    #[test]
    fn names_and_statuses() {
        assert_eq!(signal_name(libc::SIGHUP), b"HUP");
        assert_eq!(signal_name(libc::SIGKILL), b"KILL");
        assert_eq!(signal_name(libc::SIGSTKFLT), b"STKFLT");
        assert_eq!(signal_name(libc::SIGSYS), b"SYS");
        assert_eq!(signal_name(40), b"a real-time signal");
        assert_eq!(signal_name(0), b"a real-time signal");
        assert_eq!(signal_or_code(3 << 8).bytes(), b"exited 3");
        assert_eq!(signal_or_code(libc::SIGTERM).bytes(), b"killed by SIGTERM");
    }
}
