//! Making the container's first process: clone(2) with the namespace flags,
//! on a stack of our own, or clone3(2) straight into its cgroup.

use crate::report::{EXIT_RUNTIME, Failure, fail, note, step, trace};
use crate::sys::{self, CloneArgs, Errno, Fd, Pid, Stack};
use core::ffi::c_int;

/// The child's stack: it only runs setup code and, as init, a wait loop,
/// with no deep calls; the paths it builds are its biggest frames.
pub const STACK_SIZE: usize = 64 * 1024;

/// A 64 KiB stack with a guard page below it.
pub fn stack() -> Result<Stack, Failure> {
    let stack = Stack::map(STACK_SIZE + sys::PAGE);
    let stack = step("mmap(68 KiB for the child's stack)", &[], stack)?;
    step("mprotect(its lowest page, PROT_NONE): a guard", &[], stack.guard())?;
    Ok(stack)
}

/// The namespace flags in words, for the trace: the ones every container
/// gets (ns::flags), then a network namespace's if it has one.
fn net_word(ns: c_int) -> &'static [u8] {
    if ns & libc::CLONE_NEWNET != 0 { b"|CLONE_NEWNET" } else { b"" }
}

/// CLONE_INTO_CGROUP (Linux 5.7): the child starts life in the cgroup
/// whose directory `clone_args.cgroup` refers to.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Starts a child in new namespaces `ns`, inside the cgroup v2 directory
/// `cgroup`, running `f(arg)` on `stack`: clone3 with CLONE_INTO_CGROUP
/// (and CLONE_NEWCGROUP, which the kernel roots at that cgroup). The child
/// never runs outside its cgroup, and the kernel skips the migration that a
/// write to cgroup.procs costs. None where the kernel cannot: no clone3
/// before Linux 5.3 (ENOSYS), no CLONE_INTO_CGROUP before 5.7 (EINVAL).
pub fn into_cgroup<T>(
    ns: c_int,
    cgroup: Fd,
    stack: &Stack,
    f: fn(&T) -> c_int,
    arg: &T,
) -> Result<Option<Pid>, Failure> {
    let ns = ns | libc::CLONE_NEWCGROUP;
    let args = CloneArgs {
        flags: ns as u64 | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup as u64,
        ..CloneArgs::default()
    };
    let r = sys::clone3(args, stack, f, arg);
    let template = "clone3(CLONE_NEWUTS|CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWIPC%|CLONE_NEWCGROUP, CLONE_INTO_CGROUP)";
    trace(template, &[net_word(ns)], r.map(|p| p as u64));
    match r {
        Ok(pid) => Ok(Some(pid)),
        Err(Errno::ENOSYS | Errno::EINVAL | Errno::E2BIG) => {
            note("no clone3 into a cgroup: clone, then cgroup.procs", &[]);
            Ok(None)
        }
        Err(e) => Err(fail(EXIT_RUNTIME, template, &[net_word(ns)], Some(e))),
    }
}

/// Starts a child in new namespaces `ns` running `f(arg)` on `stack`.
pub fn new<T>(ns: c_int, stack: &Stack, f: fn(&T) -> c_int, arg: &T) -> Result<Pid, Failure> {
    let r = sys::clone(ns as u64 | libc::SIGCHLD as u64, stack, f, arg);
    step("clone(CLONE_NEWUTS|CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWIPC%|SIGCHLD)", &[net_word(ns)], r)
}
