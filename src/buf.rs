//! A fixed buffer of bytes, since there is no heap: trace and error lines,
//! and the paths tinyrun builds. Appending never fails: what does not fit
//! is cut off, which is fine for a message; a path that was cut (or holds a
//! NUL) is refused when used, with ENAMETOOLONG, never passed on shortened.

use crate::sys::{self, Errno, Fd};
use core::ffi::CStr;

pub struct Buf {
    len: usize,
    cut: bool,
    buf: [u8; Buf::CAP],
}

impl Buf {
    /// Room for any line tinyrun prints and the paths it builds, but for
    /// PATH_MAX-long ones, which the kernel mostly refuses anyway.
    pub const CAP: usize = 512;

    pub const fn new() -> Buf {
        Buf { len: 0, cut: false, buf: [0; Buf::CAP] }
    }

    pub fn of(parts: &[&[u8]]) -> Buf {
        let mut b = Buf::new();
        for part in parts {
            b.s(part);
        }
        b
    }

    /// Appends text.
    pub fn t(&mut self, s: &str) -> &mut Buf {
        self.s(s.as_bytes())
    }

    /// Appends bytes, keeping one byte for the NUL that ends a path.
    pub fn s(&mut self, s: &[u8]) -> &mut Buf {
        for &b in s {
            if self.len + 1 >= Buf::CAP || b == 0 {
                self.cut = true;
                break;
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        self.buf[self.len] = 0;
        self
    }

    pub fn n(&mut self, v: u64) -> &mut Buf {
        let mut digits = [0u8; 20];
        self.s(decimal(v, &mut digits))
    }

    /// Appends `template` with each `%` replaced by the next of `args`.
    pub fn fill(&mut self, template: &str, args: &[&[u8]]) -> &mut Buf {
        let mut args = args.iter();
        for part in template.as_bytes().split(|&b| b == b'%') {
            self.s(part);
            if part.as_ptr_range().end < template.as_bytes().as_ptr_range().end {
                self.s(args.next().copied().unwrap_or_default());
            }
        }
        self
    }

    pub fn truncate(&mut self, len: usize) {
        self.len = len.min(self.len);
        self.buf[self.len] = 0;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// What the buffer holds (cut short if it did not fit).
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The buffer as a path for a system call, if it is whole.
    pub fn c(&self) -> sys::Result<&CStr> {
        if self.cut {
            return Err(Errno::ENAMETOOLONG);
        }
        // Safety: `s` keeps a NUL after the last byte and lets none in
        // before it (the checked constructor would search for it again).
        Ok(unsafe { CStr::from_bytes_with_nul_unchecked(&self.buf[..=self.len]) })
    }

    /// Writes the buffer and a newline to `fd`, in one write(2).
    pub fn println(&mut self, fd: Fd) {
        self.buf[self.len] = b'\n';
        let _ = sys::write(fd, &self.buf[..=self.len]);
        self.buf[self.len] = 0;
    }
}

impl Default for Buf {
    fn default() -> Buf {
        Buf::new()
    }
}

/// Whether `s` holds the byte `b`. (`contains` would call core's memchr:
/// 240 bytes of code, for a few short strings.)
#[allow(clippy::manual_contains)]
pub fn has(s: &[u8], b: u8) -> bool {
    s.iter().any(|&c| c == b)
}

/// `v` in decimal, written at the end of `buf`.
pub fn decimal(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_parts_into_a_path() {
        let mut p = Buf::of(&[b"/sys/fs/cgroup", b"/pids"]);
        assert_eq!(p.c(), Ok(c"/sys/fs/cgroup/pids"));
        p.s(b"/pids.max");
        assert_eq!(p.c(), Ok(c"/sys/fs/cgroup/pids/pids.max"));
        p.truncate(19);
        assert_eq!(p.c(), Ok(c"/sys/fs/cgroup/pids"));
    }

    #[test]
    fn cuts_what_does_not_fit_and_refuses_it_as_a_path() {
        let mut b = Buf::new();
        for _ in 0..100 {
            b.s(b"0123456789");
        }
        assert_eq!(b.bytes().len(), Buf::CAP - 1);
        assert_eq!(b.c(), Err(Errno::ENAMETOOLONG));
        assert_eq!(Buf::of(&[b"a\0b"]).c(), Err(Errno::ENAMETOOLONG));
        let mut b = Buf::new();
        b.n(0).t(" ").n(u64::MAX);
        assert_eq!(b.bytes(), b"0 18446744073709551615");
    }

    #[test]
    fn templates_take_their_arguments_in_order() {
        let mut b = Buf::new();
        b.fill("write(%, %)%", &[b"/a", b"1"]);
        assert_eq!(b.bytes(), b"write(/a, 1)");
        assert_eq!(Buf::new().fill("%", &[b"x"]).bytes(), b"x");
        assert_eq!(Buf::new().fill("no args", &[]).bytes(), b"no args");
    }
}
