//! Running the command: its environment, and the PATH lookup done here,
//! after the root has changed, as execvp(3) would do it. This is the demo's
//! LookPath lesson: busybox's `ls` is /bin/ls even where the host's is
//! /usr/bin/ls, so the lookup must happen inside the container.

use crate::buf::Buf;
use crate::report::{EXIT_CANNOT_EXEC, EXIT_NOT_FOUND, Failure, fail, note, tracing};
use crate::spec::{Env, Spec};
use crate::sys::{self, Errno, SigSet};
use core::ffi::{CStr, c_char};
use core::ptr::null;

/// Executes the spec's command; returns only why it could not.
pub fn exec(spec: &Spec) -> Failure {
    let mut envp = [null::<c_char>(); Env::MAX + 1];
    for (p, var) in envp.iter_mut().zip(spec.env.vars()) {
        *p = var.as_ptr();
    }
    let hostname = Buf::of(&[b"HOSTNAME=", spec.hostname.to_bytes()]);
    if spec.env.get(b"HOSTNAME").is_none() {
        envp[spec.env.vars().len()] = hostname.c().unwrap_or(c"").as_ptr();
    }
    let argv = spec.args.as_ptr();
    lookup(spec.args.first().unwrap_or(c""), spec.env.get(b"PATH").unwrap_or_default(), |file| {
        // Each try is traced before it is made: the one that works does not
        // return. Our signals stay blocked up to the execve (SIGPIPE among
        // them: a closed stderr must not end us mid-trace, nor the SIGPIPE
        // it left pending end the command); the command starts with none
        // blocked, as it expects.
        if tracing() {
            note("execve(%)", &[file.to_bytes()]);
            sys::sigtake(&SigSet::of(&[libc::SIGPIPE]));
        }
        let ours = sys::sigprocmask(libc::SIG_SETMASK, &SigSet(0));
        let e = sys::execve(file, argv, envp.as_ptr());
        if let Ok(ours) = ours {
            let _ = sys::sigprocmask(libc::SIG_SETMASK, &ours);
        }
        e
    })
}

/// Finds `cmd` as execvp(3) does, and runs `exec` on it: a name with a
/// `/` is used as given; otherwise each PATH entry is tried in turn (an
/// empty one is the working directory), going on past files that are not
/// there and, remembering it, past ones we may not execute. `exec` returns
/// only on failure.
pub fn lookup(cmd: &CStr, path: &[u8], mut exec: impl FnMut(&CStr) -> Errno) -> Failure {
    let name = cmd.to_bytes();
    if crate::buf::has(name, b'/') {
        return failed(name, exec(cmd));
    }
    let mut denied = false;
    if !name.is_empty() {
        for dir in path.split(|&b| b == b':') {
            let dir = if dir.is_empty() { &b"."[..] } else { dir };
            let file = Buf::of(&[dir, b"/", name]);
            let Ok(c) = file.c() else { continue };
            match exec(c) {
                Errno::EACCES => denied = true,
                Errno::ENOENT | Errno::ENOTDIR | Errno::ESTALE | Errno::ENODEV | Errno::ETIMEDOUT => {}
                e => return failed(file.bytes(), e),
            }
        }
    }
    if denied {
        return failed(name, Errno::EACCES);
    }
    fail(EXIT_NOT_FOUND, "execve(%): executable file not found in $PATH", &[name], None)
}

/// `tinyrun: execve(file): errno text`, 127 when the file is not there and
/// 126 when it is but cannot be executed, as shells do.
fn failed(file: &[u8], e: Errno) -> Failure {
    let code = match e {
        Errno::ENOENT | Errno::ENOTDIR => EXIT_NOT_FOUND,
        _ => EXIT_CANNOT_EXEC,
    };
    fail(code, "execve(%)", &[file], Some(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `lookup` over a fake file system: `files` are the paths there
    /// with the errno their execve fails with; others are ENOENT. Returns
    /// the paths tried with execve and the failure.
    fn look(cmd: &str, path: &str, files: &[(&str, i32)]) -> (Vec<String>, u8, String) {
        let find = |file: &CStr| files.iter().find(|(p, _)| *p == file.to_str().unwrap()).map(|(_, e)| *e);
        let mut tried = vec![];
        let cmd = std::ffi::CString::new(cmd).unwrap();
        let f = lookup(&cmd, path.as_bytes(), |file| {
            tried.push(file.to_str().unwrap().to_string());
            Errno::new(find(file).unwrap_or(libc::ENOENT))
        });
        (tried, f.0, crate::report::captured::last())
    }

    #[test]
    fn tries_each_path_entry_until_one_is_there() {
        let (tried, code, msg) = look("ls", "/usr/bin:/bin:/sbin", &[("/bin/ls", libc::E2BIG), ("/sbin/ls", 0)]);
        assert_eq!(tried, ["/usr/bin/ls", "/bin/ls"]);
        assert_eq!((code, msg.as_str()), (126, "tinyrun: execve(/bin/ls): Argument list too long"));
    }

    #[test]
    fn not_found_anywhere() {
        let (tried, code, msg) = look("ls", "/usr/bin:/bin", &[]);
        assert_eq!(tried, ["/usr/bin/ls", "/bin/ls"]);
        assert_eq!((code, msg.as_str()), (127, "tinyrun: execve(ls): executable file not found in $PATH"));
    }

    #[test]
    fn a_name_with_a_slash_is_used_as_given() {
        let (tried, code, msg) = look("./x", "/bin", &[]);
        assert_eq!(tried, ["./x"]);
        assert_eq!((code, msg.as_str()), (127, "tinyrun: execve(./x): No such file or directory"));
        let (_, code, msg) = look("/etc/passwd", "/bin", &[("/etc/passwd", libc::EACCES)]);
        assert_eq!((code, msg.as_str()), (126, "tinyrun: execve(/etc/passwd): Permission denied"));
    }

    #[test]
    fn permission_denied_is_remembered_while_later_entries_are_tried() {
        let (tried, code, msg) = look("x", "/a:/b", &[("/a/x", libc::EACCES)]);
        assert_eq!(tried, ["/a/x", "/b/x"]);
        assert_eq!((code, msg.as_str()), (126, "tinyrun: execve(x): Permission denied"));
        let (tried, ..) = look("x", "/a:/b", &[("/a/x", libc::EACCES), ("/b/x", libc::E2BIG)]);
        assert_eq!(tried, ["/a/x", "/b/x"]);
    }

    #[test]
    fn an_empty_entry_is_the_working_directory() {
        let (tried, ..) = look("x", ":/b", &[("./x", libc::ENOEXEC)]);
        assert_eq!(tried, ["./x"]);
        let (tried, ..) = look("x", "/a:", &[]);
        assert_eq!(tried, ["/a/x", "./x"]);
        let (tried, code, _) = look("", "/b", &[("/b/", 0)]);
        assert!(tried.is_empty());
        assert_eq!(code, 127);
    }
}
