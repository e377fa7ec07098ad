//! What tinyrun tells its user: `--trace` lines and one-line errors.
//!
//! Every step is named once, by a template such as `mount(% on itself,
//! MS_BIND|MS_REC)` whose `%` take its arguments. The trace prints it with
//! the result (`tinyrun[1]: chdir(/tmp/r) = 0`); a failure prints it with the
//! errno text (`tinyrun: pivot_root(/tmp/r): Invalid argument`).
//!
//! A failure is reported where it happens, and only its exit code travels
//! up. On the host it goes to stderr; in the container it goes down the
//! report pipe with its code, for the host side to print once the container
//! is gone. Lines are built in a fixed buffer and written with one write(2),
//! so that lines of different processes do not interleave.

pub use crate::buf::{Buf, decimal};
use crate::sys::{self, Errno, Fd};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering::Relaxed};

/// Exit codes of the runtime itself, as runc, crun and the shells use them.
pub const EXIT_RUNTIME: u8 = 125;
pub const EXIT_CANNOT_EXEC: u8 = 126;
pub const EXIT_NOT_FOUND: u8 = 127;

static TRACE: AtomicBool = AtomicBool::new(false);
/// 0 on the host; in the container, the pid there (1 for init).
static WHO: AtomicU32 = AtomicU32::new(0);
/// Where failures go: stderr, or the report pipe in the container.
static SINK: AtomicI32 = AtomicI32::new(2);

pub fn set_trace(on: bool) {
    TRACE.store(on, Relaxed);
}

pub fn tracing() -> bool {
    TRACE.load(Relaxed)
}

/// Labels this process's trace lines with its pid inside the container.
pub fn set_container_pid(pid: u32) {
    WHO.store(pid, Relaxed);
}

/// Sends failures down the report pipe from now on.
pub fn report_to(fd: Fd) {
    SINK.store(fd, Relaxed);
}

/// Starts a trace line: `tinyrun: ` on the host, `tinyrun[1]: ` for the
/// container's pid 1, and so on.
fn trace_line() -> Buf {
    let mut l = Buf::new();
    l.t("tinyrun");
    let who = WHO.load(Relaxed);
    if who != 0 {
        l.t("[").n(who as u64).t("]");
    }
    l.t(": ");
    l
}

/// Prints `tinyrun: step = result` when tracing.
#[inline(never)]
pub fn trace(template: &str, args: &[&[u8]], result: Result<u64, Errno>) {
    if tracing() {
        let mut l = trace_line();
        l.fill(template, args);
        match result {
            Ok(v) => l.t(" = ").n(v),
            Err(e) => l.t(" = -1 (").s(errno_text(e)).t(")"),
        };
        l.println(2);
    }
}

/// Prints a trace line of words: `tinyrun: what`.
#[inline(never)]
pub fn note(template: &str, args: &[&[u8]]) {
    if tracing() {
        trace_line().fill(template, args).println(2);
    }
}

/// Why the container could not run: its exit code (125, 126 or 127). The
/// line that explains it has been reported already.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure(pub u8);

/// Reports `tinyrun: step: errno text`, or `tinyrun: step` without an
/// errno, and returns the failure with `code`.
#[cold]
#[inline(never)]
pub fn fail(code: u8, template: &str, args: &[&[u8]], e: Option<Errno>) -> Failure {
    let mut l = Buf::of(&[b"tinyrun: "]);
    l.fill(template, args);
    if let Some(e) = e {
        l.t(": ").s(errno_text(e));
    }
    emit(code, &mut l);
    Failure(code)
}

/// A runtime error (125) that is not a failed system call.
pub fn error(template: &str, args: &[&[u8]]) -> Failure {
    fail(EXIT_RUNTIME, template, args, None)
}

/// The value a step shows in the trace.
pub trait Shown {
    fn shown(&self) -> u64;
}

impl Shown for () {
    fn shown(&self) -> u64 {
        0
    }
}

impl Shown for usize {
    fn shown(&self) -> u64 {
        *self as u64
    }
}

impl Shown for i32 {
    fn shown(&self) -> u64 {
        *self as u64
    }
}

/// Values that stand for a success with no number of interest: pipe ends,
/// a signal mask, a stack mapping.
macro_rules! shown_as_zero {
    ($($t:ty),*) => {$(impl Shown for $t { fn shown(&self) -> u64 { 0 } })*};
}
shown_as_zero!([Fd; 2], sys::SigSet, sys::Stack);

/// One step: traces it and, if it failed, reports that (exit code 125).
#[inline(always)]
pub fn step<T: Shown>(template: &str, args: &[&[u8]], r: sys::Result<T>) -> Result<T, Failure> {
    match r {
        Ok(v) => {
            trace(template, args, Ok(v.shown()));
            Ok(v)
        }
        Err(e) => Err(step_failed(template, args, e)),
    }
}

/// A step of the container's own setup, which has nothing to undo when it
/// fails: traced, and on failure reported and the end (exit code 125), as
/// bubblewrap's die_with_error.
pub fn must<T: Shown>(template: &str, args: &[&[u8]], r: sys::Result<T>) -> T {
    match step(template, args, r) {
        Ok(v) => v,
        Err(f) => sys::exit(f.0 as i32),
    }
}

#[cold]
#[inline(never)]
fn step_failed(template: &str, args: &[&[u8]], e: Errno) -> Failure {
    trace(template, args, Err(e));
    fail(EXIT_RUNTIME, template, args, Some(e))
}

/// The failure line goes to stderr, or down the report pipe after its
/// exit code, as one record.
fn emit(code: u8, l: &mut Buf) {
    #[cfg(test)]
    {
        let _ = code;
        captured::push(l.bytes());
    }
    #[cfg(not(test))]
    match SINK.load(Relaxed) {
        2 => l.println(2),
        fd => {
            let record = Buf::of(&[&[code], l.bytes()]);
            let _ = sys::write(fd, record.bytes());
        }
    }
}

/// Reads a record of the report pipe: prints its line, returns its code.
pub fn replay(record: &[u8]) -> Failure {
    let (&code, text) = record.split_first().unwrap_or((&EXIT_RUNTIME, b"tinyrun: empty report"));
    Buf::new().s(text).println(2);
    Failure(code)
}

/// In unit tests, failure lines are kept per thread for the test to read.
#[cfg(test)]
pub mod captured {
    use std::cell::RefCell;

    thread_local!(static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) });

    pub fn push(line: &[u8]) {
        LINES.with(|l| l.borrow_mut().push(String::from_utf8_lossy(line).into_owned()));
    }

    /// The last failure line, taking them all.
    pub fn last() -> String {
        LINES.with(|l| l.borrow_mut().drain(..).next_back().unwrap_or_default())
    }
}

/// The exit code for a wait status, as a shell reports it: the exit status,
/// or 128 + N when signal N killed the process.
pub fn exit_code(status: i32) -> u8 {
    match status & 0x7f {
        0 => (status >> 8) as u8,
        sig => 128 + sig as u8,
    }
}

/// strerror(3) for the errors a container runtime meets, in glibc's words,
/// so that callers who match runc's and crun's messages (podman) understand
/// them. Packed as one string of `errno byte, text, NUL` entries: a quarter
/// of the size of a table of string slices.
pub fn errno_text(e: Errno) -> &'static [u8] {
    const TEXTS: &[u8] = b"\
\x01Operation not permitted\0\x02No such file or directory\0\x03No such process\0\
\x05Input/output error\0\x07Argument list too long\0\x08Exec format error\0\
\x09Bad file descriptor\0\x0bResource temporarily unavailable\0\x0cCannot allocate memory\0\
\x0dPermission denied\0\x10Device or resource busy\0\x11File exists\0\x13No such device\0\
\x14Not a directory\0\x15Is a directory\0\x16Invalid argument\0\x18Too many open files\0\
\x19Inappropriate ioctl for device\0\x1aText file busy\0\x1cNo space left on device\0\
\x1eRead-only file system\0\x24File name too long\0\x26Function not implemented\0\
\x27Directory not empty\0\x28Too many levels of symbolic links\0";
    let mut at = 0;
    while at < TEXTS.len() {
        let text = at + 1;
        let end = text + TEXTS[text..].iter().position(|&c| c == 0).unwrap_or(0);
        if TEXTS[at] as i32 == e.into_raw() {
            return &TEXTS[text..end];
        }
        at = end + 1;
    }
    b"Unknown error"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_text_uses_glibc_words() {
        assert_eq!(errno_text(Errno::EPERM), b"Operation not permitted");
        assert_eq!(errno_text(Errno::EINVAL), b"Invalid argument");
        assert_eq!(errno_text(Errno::ENOENT), b"No such file or directory");
        assert_eq!(errno_text(Errno::ENOMEM), b"Cannot allocate memory");
        assert_eq!(errno_text(Errno::ELOOP), b"Too many levels of symbolic links");
        assert_eq!(errno_text(Errno::ENOTBLK), b"Unknown error");
        assert_eq!(errno_text(Errno::new(9999)), b"Unknown error");
        assert_eq!(errno_text(Errno::new(0)), b"Unknown error");
    }

    #[test]
    fn failures_name_the_step_its_arguments_and_the_errno() {
        let f = step::<()>("pivot_root(%)", &[b"/tmp/r"], Err(Errno::EINVAL));
        assert_eq!(f, Err(Failure(EXIT_RUNTIME)));
        assert_eq!(captured::last(), "tinyrun: pivot_root(/tmp/r): Invalid argument");
        let f = fail(127, "execve(%): executable file not found in $PATH", &[b"x"], None);
        assert_eq!(f, Failure(127));
        assert_eq!(captured::last(), "tinyrun: execve(x): executable file not found in $PATH");
        assert_eq!(step("open(%)", &[b"/"], Ok(3)), Ok(3));
        assert_eq!(captured::last(), "");
    }

    #[test]
    fn exit_code_maps_wait_status_like_a_shell() {
        assert_eq!(exit_code(0), 0);
        assert_eq!(exit_code(7 << 8), 7);
        assert_eq!(exit_code(255 << 8), 255);
        assert_eq!(exit_code(libc::SIGKILL), 137);
        assert_eq!(exit_code(libc::SIGTERM | 0x80), 143); // core dumped
    }
}
