//! Small files, as cgroupfs and procfs serve them: write a value, read a
//! few bytes, or go through a long file line by line in a fixed buffer.

use crate::sys::{self, Errno, Fd, Result};
use core::ffi::CStr;

/// Writes `value` to the file `path` under the directory `dir`, in one
/// write(2), as cgroupfs wants.
pub fn write_at(dir: Fd, path: &CStr, value: &[u8]) -> Result<()> {
    let fd = sys::openat(dir, path, libc::O_WRONLY)?;
    let r = sys::write(fd, value);
    sys::close(fd);
    match r {
        Ok(n) if n == value.len() => Ok(()),
        Ok(_) => Err(Errno::EIO),
        Err(e) => Err(e),
    }
}

/// Reads a small file (cgroupfs serves one in a single read(2)) under the
/// directory `dir` into `buf`; empty if it cannot.
pub fn read_at<'b>(dir: Fd, path: &CStr, buf: &'b mut [u8]) -> &'b [u8] {
    let Ok(fd) = sys::openat(dir, path, libc::O_RDONLY) else { return &[] };
    let n = sys::read(fd, buf).unwrap_or(0);
    sys::close(fd);
    &buf[..n]
}

/// The lines of a file of any length, read into `buf` a part at a time. A
/// line longer than the buffer comes back cut to its length.
pub struct Lines<'b> {
    fd: Fd,
    start: usize,
    end: usize,
    eof: bool,
    buf: &'b mut [u8],
}

impl<'b> Lines<'b> {
    pub fn open(path: &CStr, buf: &'b mut [u8]) -> Result<Lines<'b>> {
        Ok(Lines::from_fd(sys::open(path, libc::O_RDONLY)?, buf))
    }

    /// Takes over an open file.
    pub fn from_fd(fd: Fd, buf: &'b mut [u8]) -> Lines<'b> {
        Lines { fd, start: 0, end: 0, eof: false, buf }
    }

    pub fn next_line(&mut self) -> Option<&[u8]> {
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(nl) = pending.iter().position(|&b| b == b'\n') {
                let line = self.start..self.start + nl;
                self.start += nl + 1;
                return Some(&self.buf[line]);
            }
            if self.eof || (self.start == 0 && self.end == self.buf.len()) {
                // The last line without a newline, or one longer than the buffer.
                if self.start == self.end {
                    return None;
                }
                let line = self.start..self.end;
                self.start = self.end;
                return Some(&self.buf[line]);
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            match sys::read(self.fd, &mut self.buf[self.end..]) {
                Ok(0) | Err(_) => self.eof = true,
                Ok(n) => self.end += n,
            }
        }
    }
}

impl crate::report::Shown for Lines<'_> {
    fn shown(&self) -> u64 {
        self.fd as u64
    }
}

impl Drop for Lines<'_> {
    fn drop(&mut self) {
        sys::close(self.fd);
    }
}

/// The number after `key ` in a flat keyed file such as memory.events
/// (`oom_kill 1`).
pub fn keyed(text: &[u8], key: &[u8]) -> Option<u64> {
    text.split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(b" "))
        .and_then(|n| crate::cli::parse_number(n, 0, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::io::Write;

    fn lines_of(content: &[u8]) -> Vec<Vec<u8>> {
        let path = std::env::temp_dir().join(format!("tinyrun-lines-{}-{}", std::process::id(), content.len()));
        std::fs::File::create(&path).unwrap().write_all(content).unwrap();
        let c = CString::new(path.to_str().unwrap()).unwrap();
        let mut buf = [0u8; 4096];
        let mut lines = Lines::open(&c, &mut buf).unwrap();
        let mut out = vec![];
        while let Some(l) = lines.next_line() {
            out.push(l.to_vec());
        }
        std::fs::remove_file(path).unwrap();
        out
    }

    #[test]
    fn reads_lines_across_buffer_refills() {
        let mut content = Vec::new();
        for i in 0..2000 {
            content.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        content.extend_from_slice(b"last");
        let lines = lines_of(&content);
        assert_eq!(lines.len(), 2001);
        assert_eq!(lines[1234], b"line 1234");
        assert_eq!(lines[2000], b"last");
    }

    #[test]
    fn cuts_overlong_lines() {
        let mut content = vec![b'x'; 5000];
        content.extend_from_slice(b"\nshort\n");
        let lines = lines_of(&content);
        assert_eq!(lines[0].len(), 4096);
        assert_eq!(lines.last().unwrap(), b"short");
    }

    #[test]
    fn keyed_values() {
        let events = b"low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(keyed(events, b"oom_kill"), Some(1));
        assert_eq!(keyed(events, b"oom_group_kill"), None); // 0
        assert_eq!(keyed(events, b"max"), Some(3));
        assert_eq!(keyed(events, b"oom_group"), None);
        assert_eq!(keyed(b"oom_kill_disable 0\nunder_oom 0\noom_kill 2", b"oom_kill"), Some(2));
    }
}
