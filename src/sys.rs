//! The raw system call layer: the only place where tinyrun talks to the
//! kernel. Each wrapper is one system call through the `syscalls` crate, names
//! its man page, and returns the kernel's errno unchanged. No libc is linked:
//! constants and types come from the `libc` crate, nothing else does. The
//! memory that system calls hand over lives here too, with the only other
//! `unsafe` code: the child's stack, argv and envp.

use core::ffi::{CStr, c_char, c_int, c_ulong, c_void};
use core::ptr::null;
pub use syscalls::Errno;
use syscalls::{Sysno, syscall};

pub type Result<T> = core::result::Result<T, Errno>;
pub type Fd = c_int;
pub type Pid = c_int;

/// A NUL-terminated array of C string pointers: argv or envp as execve(2)
/// takes them.
pub type CVec = *const *const c_char;

fn opt(s: Option<&CStr>) -> *const c_char {
    s.map_or(null(), CStr::as_ptr)
}

/// read(2)
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize> {
    unsafe { syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len()) }
}

/// write(2)
pub fn write(fd: Fd, buf: &[u8]) -> Result<usize> {
    unsafe { syscall!(Sysno::write, fd, buf.as_ptr(), buf.len()) }
}

/// close(2)
pub fn close(fd: Fd) {
    // Linux always releases the descriptor, even when close reports an error.
    let _ = unsafe { syscall!(Sysno::close, fd) };
}

/// openat(2) relative to the working directory.
pub fn open(path: &CStr, flags: c_int) -> Result<Fd> {
    openat(libc::AT_FDCWD, path, flags)
}

/// openat(2) relative to the directory `dir`.
pub fn openat(dir: Fd, path: &CStr, flags: c_int) -> Result<Fd> {
    let fd = unsafe { syscall!(Sysno::openat, dir, path.as_ptr(), flags | libc::O_CLOEXEC, 0) }?;
    Ok(fd as Fd)
}

/// faccessat(2) relative to `dir`: whether `path` exists there.
pub fn access_at(dir: Fd, path: &CStr) -> bool {
    unsafe { syscall!(Sysno::faccessat, dir, path.as_ptr(), libc::F_OK) }.is_ok()
}

/// mkdirat(2)
pub fn mkdir(path: &CStr, mode: u32) -> Result<()> {
    unsafe { syscall!(Sysno::mkdirat, libc::AT_FDCWD, path.as_ptr(), mode) }.map(drop)
}

/// unlinkat(2) with AT_REMOVEDIR: rmdir.
pub fn rmdir(path: &CStr) -> Result<()> {
    unsafe { syscall!(Sysno::unlinkat, libc::AT_FDCWD, path.as_ptr(), libc::AT_REMOVEDIR) }.map(drop)
}

/// mknodat(2); with S_IFREG it makes an empty file in one call.
pub fn mknod(path: &CStr, mode: u32, dev: u32) -> Result<()> {
    unsafe { syscall!(Sysno::mknodat, libc::AT_FDCWD, path.as_ptr(), mode, dev) }.map(drop)
}

/// umask(2): sets the file mode creation mask, returns the old one.
pub fn umask(mask: u32) -> u32 {
    unsafe { syscall!(Sysno::umask, mask) }.unwrap_or(0) as u32
}

/// symlinkat(2)
pub fn symlink(target: &CStr, path: &CStr) -> Result<()> {
    unsafe { syscall!(Sysno::symlinkat, target.as_ptr(), libc::AT_FDCWD, path.as_ptr()) }.map(drop)
}

/// getdents64(2): fills `buf` with linux_dirent64 records.
pub fn getdents64(fd: Fd, buf: &mut [u8]) -> Result<usize> {
    unsafe { syscall!(Sysno::getdents64, fd, buf.as_mut_ptr(), buf.len()) }
}

/// statfs(2), returning only the filesystem type (f_type).
pub fn statfs_type(path: &CStr) -> Result<i64> {
    let mut st = core::mem::MaybeUninit::<libc::statfs>::uninit();
    unsafe { syscall!(Sysno::statfs, path.as_ptr(), st.as_mut_ptr()) }?;
    Ok(unsafe { st.assume_init() }.f_type)
}

/// mount(2)
pub fn mount(
    src: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: c_ulong,
    data: Option<&CStr>,
) -> Result<()> {
    unsafe { syscall!(Sysno::mount, opt(src), target.as_ptr(), opt(fstype), flags, opt(data)) }.map(drop)
}

/// umount2(2)
pub fn umount2(target: &CStr, flags: c_int) -> Result<()> {
    unsafe { syscall!(Sysno::umount2, target.as_ptr(), flags) }.map(drop)
}

/// pivot_root(2)
pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> Result<()> {
    unsafe { syscall!(Sysno::pivot_root, new_root.as_ptr(), put_old.as_ptr()) }.map(drop)
}

/// chroot(2)
pub fn chroot(path: &CStr) -> Result<()> {
    unsafe { syscall!(Sysno::chroot, path.as_ptr()) }.map(drop)
}

/// chdir(2)
pub fn chdir(path: &CStr) -> Result<()> {
    unsafe { syscall!(Sysno::chdir, path.as_ptr()) }.map(drop)
}

/// sethostname(2)
pub fn sethostname(name: &[u8]) -> Result<()> {
    unsafe { syscall!(Sysno::sethostname, name.as_ptr(), name.len()) }.map(drop)
}

/// unshare(2)
pub fn unshare(flags: c_int) -> Result<()> {
    unsafe { syscall!(Sysno::unshare, flags) }.map(drop)
}

/// execve(2): returns only on failure.
pub fn execve(path: &CStr, argv: CVec, envp: CVec) -> Errno {
    match unsafe { syscall!(Sysno::execve, path.as_ptr(), argv, envp) } {
        Err(e) => e,
        Ok(_) => unreachable!(),
    }
}

/// exit_group(2)
pub fn exit(code: i32) -> ! {
    let _ = unsafe { syscall!(Sysno::exit_group, code) };
    unreachable!()
}

/// wait4(2); returns the pid and its wait status, or pid 0 under WNOHANG
/// while the child is still running.
pub fn wait4(pid: Pid, options: c_int) -> Result<(Pid, c_int)> {
    let mut status: c_int = 0;
    let r = unsafe { syscall!(Sysno::wait4, pid, &mut status as *mut c_int, options, 0) }?;
    Ok((r as Pid, status))
}

/// kill(2)
pub fn kill(pid: Pid, sig: c_int) -> Result<()> {
    unsafe { syscall!(Sysno::kill, pid, sig) }.map(drop)
}

/// getpid(2)
pub fn getpid() -> Pid {
    unsafe { syscall!(Sysno::getpid) }.unwrap_or(0) as Pid
}

/// getpgid(2) of this process.
pub fn getpgrp() -> Pid {
    unsafe { syscall!(Sysno::getpgid, 0) }.unwrap_or(0) as Pid
}

/// poll(2) of one descriptor; returns the events that occurred.
pub fn poll1(fd: Fd, events: i16) -> Result<i16> {
    let mut pfd = libc::pollfd { fd, events, revents: 0 };
    unsafe { syscall!(Sysno::poll, &mut pfd as *mut libc::pollfd, 1, 0) }?;
    Ok(pfd.revents)
}

/// pipe2(2): [read end, write end].
pub fn pipe2(flags: c_int) -> Result<[Fd; 2]> {
    let mut fds: [Fd; 2] = [-1; 2];
    unsafe { syscall!(Sysno::pipe2, fds.as_mut_ptr(), flags | libc::O_CLOEXEC) }?;
    Ok(fds)
}

/// prctl(2) with one argument.
pub fn prctl(option: c_int, arg: c_ulong) -> Result<()> {
    unsafe { syscall!(Sysno::prctl, option, arg, 0, 0, 0) }.map(drop)
}

/// ioctl(2) with an integer or pointer argument.
pub fn ioctl(fd: Fd, request: c_ulong, arg: *mut c_void) -> Result<usize> {
    unsafe { syscall!(Sysno::ioctl, fd, request, arg) }
}

/// socket(2)
pub fn socket(domain: c_int, ty: c_int) -> Result<Fd> {
    Ok(unsafe { syscall!(Sysno::socket, domain, ty | libc::SOCK_CLOEXEC, 0) }? as Fd)
}

/// nanosleep(2)
pub fn sleep_ns(ns: u64) {
    let ts = libc::timespec { tv_sec: (ns / 1_000_000_000) as _, tv_nsec: (ns % 1_000_000_000) as _ };
    let _ = unsafe { syscall!(Sysno::nanosleep, &ts as *const libc::timespec, 0) };
}

/// A kernel signal set (the 64-bit `sigset_t` of rt_sigprocmask(2)).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const fn of(sigs: &[c_int]) -> SigSet {
        let mut bits = 0;
        let mut i = 0;
        while i < sigs.len() {
            bits |= 1u64 << (sigs[i] - 1);
            i += 1;
        }
        SigSet(bits)
    }
    pub fn has(self, sig: c_int) -> bool {
        (1..=64).contains(&sig) && self.0 & (1u64 << (sig - 1)) != 0
    }
}

/// rt_sigprocmask(2): changes the blocked set and returns the old one.
pub fn sigprocmask(how: c_int, set: &SigSet) -> Result<SigSet> {
    let mut old = SigSet(0);
    unsafe { syscall!(Sysno::rt_sigprocmask, how, set as *const SigSet, &mut old as *mut SigSet, 8) }?;
    Ok(old)
}

/// rt_sigtimedwait(2) without a timeout (sigwaitinfo): takes one pending
/// signal of `set` off the queue, sleeping until there is one.
pub fn sigwait(set: &SigSet) -> Result<c_int> {
    Ok(unsafe { syscall!(Sysno::rt_sigtimedwait, set as *const SigSet, 0, 0, 8) }? as c_int)
}

/// rt_sigtimedwait(2) with a zero timeout: takes a pending signal of `set`
/// off the queue, if there is one, without waiting.
pub fn sigtake(set: &SigSet) {
    let now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let _ = unsafe { syscall!(Sysno::rt_sigtimedwait, set as *const SigSet, 0, &now as *const libc::timespec, 8) };
}

/// Memory for a child's stack, from mmap(2); `guard` turns its lowest page
/// into a PROT_NONE guard so that an overflow faults instead of writing over
/// whatever lies below.
pub struct Stack {
    low: *mut u8,
    len: usize,
}

pub const PAGE: usize = 4096;

impl Stack {
    /// mmap(2)
    pub fn map(len: usize) -> Result<Stack> {
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE;
        let low = unsafe { syscall!(Sysno::mmap, 0, len, libc::PROT_READ | libc::PROT_WRITE, flags, -1i32, 0) }?;
        Ok(Stack { low: low as *mut u8, len })
    }

    /// mprotect(2)
    pub fn guard(&self) -> Result<()> {
        unsafe { syscall!(Sysno::mprotect, self.low, PAGE, libc::PROT_NONE) }.map(drop)
    }

    /// The lower half of this stack, above its guard page, as a stack of its
    /// own: for a CLONE_VM child while its parent, which has the upper half,
    /// sleeps (CLONE_VFORK).
    pub fn lower_half(&self) -> Stack {
        Stack { low: self.low, len: self.len / 2 }
    }

    /// Puts the child's entry at the top of the stack for the trampoline and
    /// returns the stack pointer the child starts with (16-byte aligned, as
    /// the ABI wants before a call).
    fn prepare<T>(&self, entry: &Entry<T>) -> *mut usize {
        let top = self.low.wrapping_add(self.len) as usize & !15;
        let sp = (top as *mut usize).wrapping_sub(2);
        // Safety: the two words lie in the mapping, below its aligned end.
        unsafe {
            sp.write(enter::<T> as extern "C" fn(*const c_void) -> c_int as usize);
            sp.add(1).write(entry as *const Entry<T> as usize);
        }
        sp
    }
}

/// What a cloned child runs on its new stack: `f(arg)`, whose return value
/// is the child's exit status. Without CLONE_VM the child has a copy of our
/// memory, so `arg` is valid there too.
struct Entry<'a, T> {
    f: fn(&T) -> c_int,
    arg: &'a T,
}

extern "C" fn enter<T>(entry: *const c_void) -> c_int {
    // Safety: `prepare` put a pointer to a live Entry<T> here.
    let entry = unsafe { &*(entry as *const Entry<T>) };
    (entry.f)(entry.arg)
}

// The trampoline for clone(2) and clone3(2) with a stack of our own. After
// the system call the child has no frame to return to: its stack pointer is
// the new stack, where `prepare` left `enter` and its argument. It pops
// both, calls `enter`, and exits with its result.
//   tinyrun_clone(nr, a1, a2): nr is SYS_clone (a1 = flags, a2 = stack
//   pointer) or SYS_clone3 (a1 = &clone_args, a2 = its size).
core::arch::global_asm!(
    ".globl tinyrun_clone",
    ".type tinyrun_clone,@function",
    "tinyrun_clone:",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "xor edx, edx",
    "xor r10d, r10d",
    "xor r8d, r8d",
    "syscall",
    "test rax, rax",
    "jnz 2f",
    "xor ebp, ebp",
    "pop rax",
    "pop rdi",
    "call rax",
    "mov edi, eax",
    "mov eax, 231", // exit_group
    "syscall",
    "ud2",
    "2: ret",
);

unsafe extern "C" {
    fn tinyrun_clone(nr: usize, a1: usize, a2: usize) -> isize;
}

fn child_ret(r: isize) -> Result<Pid> {
    Errno::from_ret(r as usize).map(|p| p as Pid)
}

/// clone(2): a child process that runs `f(arg)` on `stack` and exits.
pub fn clone<T>(flags: u64, stack: &Stack, f: fn(&T) -> c_int, arg: &T) -> Result<Pid> {
    let entry = Entry { f, arg };
    let sp = stack.prepare(&entry);
    child_ret(unsafe { tinyrun_clone(Sysno::clone as usize, flags as usize, sp as usize) })
}

/// The arguments of clone3(2) (CLONE_ARGS_SIZE_VER2, Linux 5.7).
#[repr(C)]
#[derive(Default)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

/// clone3(2): as `clone`, with the flags, exit signal and cgroup of `args`.
pub fn clone3<T>(mut args: CloneArgs, stack: &Stack, f: fn(&T) -> c_int, arg: &T) -> Result<Pid> {
    let entry = Entry { f, arg };
    let sp = stack.prepare(&entry);
    // clone3 starts the child with its stack pointer at stack + stack_size.
    args.stack = stack.low as u64;
    args.stack_size = sp as u64 - stack.low as u64;
    let size = core::mem::size_of::<CloneArgs>();
    child_ret(unsafe { tinyrun_clone(Sysno::clone3 as usize, &args as *const CloneArgs as usize, size) })
}

/// The NUL-terminated C strings of an argv or envp array, one by one.
#[derive(Clone, Copy)]
pub struct CStrs(CVec);

impl CStrs {
    /// # Safety
    /// `p` is null or points to a NULL-terminated array of valid C strings
    /// that outlive the program (argv and envp do).
    pub const unsafe fn new(p: CVec) -> CStrs {
        CStrs(p)
    }
    pub fn as_ptr(self) -> CVec {
        self.0
    }
    pub fn is_empty(self) -> bool {
        self.first().is_none()
    }
    pub fn first(self) -> Option<&'static CStr> {
        if self.0.is_null() {
            return None;
        }
        let p = unsafe { *self.0 };
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) })
    }
}

impl Iterator for CStrs {
    type Item = &'static CStr;
    fn next(&mut self) -> Option<&'static CStr> {
        let s = self.first()?;
        self.0 = self.0.wrapping_add(1);
        Some(s)
    }
}

/// The end of a C string from byte `at` on, itself a C string.
pub fn tail(s: &CStr, at: usize) -> &CStr {
    let b = s.to_bytes_with_nul();
    // Safety: the suffix of a NUL-terminated string with no NUL before its
    // end has the same property.
    unsafe { CStr::from_bytes_with_nul_unchecked(&b[at.min(b.len() - 1)..]) }
}

/// Where the kernel put the program's argument and environment strings,
/// one after the other: what /proc/PID/cmdline and environ show.
static STRINGS: [core::sync::atomic::AtomicUsize; 2] = [const { core::sync::atomic::AtomicUsize::new(0) }; 2];

/// Remembers the strings of argv and the envp that follows it.
///
/// # Safety
/// `argv` is the program's argv as the kernel passed it.
pub unsafe fn remember_strings(argv: CVec) {
    let (mut p, mut last) = (argv, null());
    // argv, NULL, envp, NULL: the last string is the last before the second NULL.
    for _ in 0..2 {
        while unsafe { !(*p).is_null() } {
            last = unsafe { *p };
            p = unsafe { p.add(1) };
        }
        p = unsafe { p.add(1) };
    }
    if !last.is_null() {
        let end = last as usize + unsafe { CStr::from_ptr(last) }.count_bytes();
        STRINGS[0].store(unsafe { *argv } as usize, core::sync::atomic::Ordering::Relaxed);
        STRINGS[1].store(end, core::sync::atomic::Ordering::Relaxed);
    }
}

/// Zeroes the program's argument and environment strings, so that its
/// /proc/PID/cmdline and environ show nothing (they are the host's). Only
/// for a process that will not read them again.
pub fn forget_strings() {
    let start = STRINGS[0].load(core::sync::atomic::Ordering::Relaxed);
    let end = STRINGS[1].load(core::sync::atomic::Ordering::Relaxed);
    // Safety: remember_strings recorded them; the caller no longer uses them.
    unsafe { core::ptr::write_bytes(start as *mut u8, 0, end.saturating_sub(start)) };
}

/// An empty argv/envp array.
pub const EMPTY: CStrs = {
    static NONE: [usize; 1] = [0];
    CStrs(&NONE as *const [usize; 1] as CVec)
};
