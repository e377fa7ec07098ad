//! The launcher: `run` step by step, on both sides of clone.
//!
//! Host side: cgroups and limits, the report pipe, clone into new
//! namespaces, move the child into its cgroups, then wait, forwarding
//! signals, and clean up. Child side, in the demo's order: hostname, root,
//! working directory, /proc, then the command (under our init by default).
//!
//! Setup can stop before the command: the child waits on a pipe for the
//! host's go-ahead (today: after the cgroup writes). An OCI `create` will
//! wait there for `start`.

use crate::cgroup::Cgroups;
use crate::init::{self, BLOCKED};
use crate::report::{self, Buf, Failure, must, note, step};
use crate::spec::Spec;
use crate::sys::{self, Fd, Pid, Stack};
use crate::{clone, exec, ns, rootfs};
use core::ffi::c_int;

/// What the child needs besides the spec; it lives in the parent's frame,
/// and the child has its own copy of it.
struct Child<'a> {
    spec: &'a Spec,
    /// The stack the child runs on.
    stack: &'a Stack,
    /// Write end of the report pipe: the child writes why it failed there.
    /// It is close-on-exec, so a successful execve closes it silently.
    report: Fd,
    /// The go-ahead pipe [read, write], when the host has to move the child
    /// into its cgroups first; then the child enters a new cgroup namespace
    /// (clone3 did both when it created the child inside its cgroup).
    go: Option<[Fd; 2]>,
}

/// Runs the spec's container and returns tinyrun's exit code.
pub fn run(spec: &Spec) -> u8 {
    // First, so that no signal can end us between making a cgroup and
    // removing it; the child inherits the mask, the command gets none.
    let r = sys::sigprocmask(libc::SIG_BLOCK, &BLOCKED);
    if let Err(f) = step("rt_sigprocmask(SIG_BLOCK, signals to forward, SIGCHLD, SIGTTOU, SIGPIPE)", &[], r) {
        return f.0;
    }
    let mut tty = Terminal::save();
    let mut cgroups = Cgroups::none();
    let result = cgroups.create(spec).and_then(|_| start(spec, &cgroups));
    tty.restore();
    let code = match result {
        Err(f) => f.0,
        Ok((status, report)) => {
            // What the container side could not do, it wrote here, with the
            // exit code to give.
            let mut buf = [0u8; Buf::CAP];
            match sys::read(report, &mut buf) {
                Ok(n) if n > 0 => report::replay(&buf[..n]).0,
                _ => report::exit_code(status),
            }
        }
    };
    let oom = cgroups.oom_kills();
    if oom > 0 {
        let mut n = [0u8; 20];
        note("out of memory: % OOM kill(s) at the --memory limit", &[report::decimal(oom, &mut n)]);
    }
    cgroups.remove();
    code
}

/// Starts the container and waits for it: its wait status and the report
/// pipe, or why it could not run.
fn start(spec: &Spec, cgroups: &Cgroups) -> Result<(c_int, Fd), Failure> {
    // Non-blocking: read once the child is gone, it holds a report or nothing.
    let [report, report_w] = step("pipe2(O_CLOEXEC|O_NONBLOCK): the report pipe", &[], sys::pipe2(libc::O_NONBLOCK))?;
    let stack = clone::stack()?;
    let mut child = Child { spec, stack: &stack, report: report_w, go: None };
    let ns = ns::flags(spec);

    let mut created_inside = None;
    if let Some(dir) = cgroups.v2_dir().filter(|_| spec.clone3) {
        created_inside = clone::into_cgroup(ns, dir, &stack, container, &child)?;
    }
    let inside = created_inside.is_some();
    let pid = match created_inside {
        Some(pid) => pid,
        None => {
            if cgroups.needs_join(false) {
                child.go = Some(step("pipe2(O_CLOEXEC): the go-ahead pipe", &[], sys::pipe2(0))?);
            }
            clone::new(ns, &stack, container, &child)?
        }
    };

    if let Some([_, go]) = child.go {
        let r =
            cgroups.join(pid, inside).and_then(|_| step("write(the go-ahead pipe, 1 byte)", &[], sys::write(go, b"!")));
        if let Err(f) = r {
            let _ = sys::kill(pid, libc::SIGKILL);
            let _ = sys::wait4(pid, 0);
            return Err(f);
        }
    }

    Ok((init::serve(pid, pid), report))
}

/// The container's first process, in its new namespaces.
fn container(c: &Child) -> c_int {
    report::set_container_pid(1);
    report::report_to(c.report);
    // If tinyrun dies, so does the container. The host side may have died
    // before this took effect: then nobody reads the report pipe.
    must("prctl(PR_SET_PDEATHSIG, SIGKILL)", &[], sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as _));
    if sys::poll1(c.report, libc::POLLOUT).map_or(true, |ev| ev & libc::POLLERR != 0) {
        sys::exit(report::EXIT_RUNTIME as i32);
    }
    if let Some([go, go_w]) = c.go {
        sys::close(go_w);
        // EOF: the host side is gone, or could not place us in our cgroup.
        if sys::read(go, &mut [0]) != Ok(1) {
            sys::exit(report::EXIT_RUNTIME as i32);
        }
        sys::close(go);
        // Now that we are in our cgroup, it becomes "/" for the container.
        must("unshare(CLONE_NEWCGROUP)", &[], sys::unshare(libc::CLONE_NEWCGROUP));
    }
    setup(c.spec);
    if c.spec.init {
        init::run(|| exec::exec(c.spec), c.stack)
    }
    sys::exit(exec::exec(c.spec).0 as i32)
}

/// The demo's steps, in its order.
fn setup(spec: &Spec) {
    rootfs::make_private();
    ns::set_hostname(spec.hostname);
    if spec.net {
        ns::loopback_up();
    }
    if let Some(root) = spec.rootfs {
        rootfs::change_root(root, spec.pivot);
    }
    // pivot_root left us at / already.
    if spec.rootfs.is_none() || spec.cwd.to_bytes() != b"/" {
        must("chdir(%)", &[spec.cwd.to_bytes()], sys::chdir(spec.cwd));
    }
    rootfs::mount_proc()
}

/// The terminal on stdin as we found it, when we are its foreground job:
/// its modes and foreground process group, which the container's shell
/// changes (and may not restore if it is killed).
struct Terminal {
    modes: [u8; 64],
    pgrp: Pid,
}

impl Terminal {
    fn save() -> Terminal {
        let mut t = Terminal { modes: [0; 64], pgrp: -1 };
        if sys::ioctl(0, libc::TCGETS, t.modes.as_mut_ptr().cast()).is_err()
            || sys::ioctl(0, libc::TIOCGPGRP, (&mut t.pgrp as *mut Pid).cast()).is_err()
            || t.pgrp != sys::getpgrp()
        {
            t.pgrp = -1;
        }
        t
    }

    /// Gives the terminal back to our process group, in its old modes. We
    /// may be in the background by now: SIGTTOU is blocked, so the kernel
    /// lets us (tcsetpgrp(3)).
    fn restore(&mut self) {
        if self.pgrp > 0 {
            let _ = sys::ioctl(0, libc::TIOCSPGRP, (&mut self.pgrp as *mut Pid).cast());
            let _ = sys::ioctl(0, libc::TCSETS, self.modes.as_mut_ptr().cast());
        }
    }
}
