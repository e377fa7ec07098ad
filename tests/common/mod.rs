//! What the integration tests share: the binary under test, a fresh busybox
//! rootfs per test, and a way to run tinyrun with a deadline.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The tinyrun binary cargo built for these tests.
pub const TINYRUN: &str = env!("CARGO_BIN_EXE_tinyrun");

/// Whether this test can run: tinyrun needs root (CAP_SYS_ADMIN) for its
/// namespaces. Says why it skips; CI runs as root, where nothing skips.
pub fn root() -> bool {
    let uid = fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:").map(|u| u.split_whitespace().next().unwrap().to_string()))
        .unwrap();
    if uid != "0" {
        eprintln!("skipped: tinyrun needs root for its namespaces (uid {uid})");
    }
    uid == "0"
}

/// A name no other test (or run) uses.
pub fn unique(what: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("tinyrun-test-{what}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// A temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(unique(what));
        fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A fresh busybox rootfs made by scripts/mkrootfs, removed when dropped.
pub fn rootfs() -> TempDir {
    let dir = TempDir::new("rootfs");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mkrootfs");
    let out = Command::new(script).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "mkrootfs failed: {}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// Puts an executable file at `path` inside `root`.
pub fn install(root: &Path, path: &str, content: &[u8]) {
    let file = root.join(path.trim_start_matches('/'));
    fs::write(&file, content).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
}

/// `tinyrun ARGS...` with stdin from /dev/null, output captured.
pub fn tinyrun<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(TINYRUN);
    c.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// `tinyrun run --rootfs ROOT ARGS...`.
pub fn run_in(root: &Path, args: &[&str]) -> Command {
    let mut c = tinyrun(["run", "--rootfs"]);
    c.arg(root).args(args);
    c
}

/// What a finished run left: its status and output.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> &Run {
        assert_eq!(self.code, Some(0), "tinyrun failed: {self:#?}");
        self
    }
}

/// Runs `c` to its end, killing it after `secs` (a hang is a failure).
pub fn output(mut c: Command, secs: u64) -> Run {
    let child = c.spawn().unwrap();
    finish(child, secs)
}

pub fn finish(mut child: Child, secs: u64) -> Run {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("tinyrun still running after {secs} s: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    Run {
        code: status.code(),
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Polls `f` every 5 ms until it is true or `secs` have passed.
pub fn wait_until(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    f()
}

/// Reads a whole pipe end.
pub fn read_all(mut r: impl Read) -> String {
    let mut s = String::new();
    r.read_to_string(&mut s).unwrap();
    s
}

/// The mount points of a mountinfo text, to compare views.
pub fn mounts(pid: &str) -> Vec<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    let mut m: Vec<String> = text.lines().map(|l| l.split(' ').nth(4).unwrap().to_string()).collect();
    m.sort();
    m
}

/// The pids of processes whose parent is `ppid`.
pub fn children(ppid: u32) -> Vec<u32> {
    let mut out = vec![];
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // The fields after the command, which may hold spaces and parens.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        if rest.split(' ').nth(1) == Some(&ppid.to_string()) {
            out.push(pid);
        }
    }
    out
}

/// A process's state letter (R, S, Z, ...) from /proc/PID/stat, if alive.
pub fn state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

/// The descendants of `pid`, depth first.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut out = vec![];
    for c in children(pid) {
        out.push(c);
        out.extend(descendants(c));
    }
    out
}

/// Where the caller's cgroups are: (mount point, our path) for the v1
/// hierarchy holding `controller`, or the cgroup2 one, as tinyrun finds
/// them.
pub fn own_cgroup_dir(controller: &str) -> PathBuf {
    let cgroups = fs::read_to_string("/proc/self/cgroup").unwrap();
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    for m in mountinfo.lines() {
        let (left, right) = m.split_once(" - ").unwrap();
        let point = left.split(' ').nth(4).unwrap();
        let mut r = right.split(' ');
        let (fstype, opts) = (r.next().unwrap(), r.nth(1).unwrap_or(""));
        let v1 = fstype == "cgroup" && opts.split(',').any(|o| o == controller);
        let v2 = fstype == "cgroup2"
            && fs::read_to_string(format!("{point}/cgroup.controllers"))
                .is_ok_and(|c| c.split_whitespace().any(|c| c == controller));
        if !(v1 || v2) {
            continue;
        }
        for line in cgroups.lines() {
            let mut f = line.splitn(3, ':');
            let (id, ctls, path) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            if (v1 && ctls.split(',').any(|c| c == controller)) || (v2 && id == "0") {
                return Path::new(point).join(path.trim_start_matches('/'));
            }
        }
    }
    panic!("no cgroup hierarchy has {controller}");
}

/// A process's command name (/proc/PID/comm), if it is alive.
pub fn comm(pid: u32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|c| c.trim_end().to_string())
}

/// Waits up to `secs` for a descendant of `pid` whose command is `name`;
/// its pid.
pub fn wait_for_descendant(pid: u32, name: &str, secs: u64) -> Option<u32> {
    let mut found = None;
    wait_until(secs, || {
        found = descendants(pid).into_iter().find(|&p| comm(p).as_deref() == Some(name));
        found.is_some()
    });
    found
}

/// Sends `sig` to the process `pid` (one we started).
pub fn signal(pid: u32, sig: i32) {
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, sig) }, 0, "kill({pid}, {sig})");
}

/// A tinyrun started in the background. If the test ends early (a failed
/// assertion), dropping it ends that tinyrun: SIGTERM, so that it cleans
/// up, then SIGKILL if it has not gone within 3 s.
pub struct Background(Option<Child>);

impl Background {
    pub fn spawn(mut c: Command) -> Background {
        Background(Some(c.spawn().unwrap()))
    }

    /// tinyrun's pid.
    pub fn pid(&self) -> u32 {
        self.0.as_ref().unwrap().id()
    }

    pub fn signal(&self, sig: i32) {
        signal(self.pid(), sig);
    }

    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }

    /// Waits for its end, at most `secs`.
    pub fn finish(mut self, secs: u64) -> Run {
        finish(self.0.take().unwrap(), secs)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let Some(mut child) = self.0.take() else { return };
        if let Ok(None) = child.try_wait() {
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            if !wait_until(3, || !matches!(child.try_wait(), Ok(None))) {
                let _ = child.kill();
            }
        }
        let _ = child.wait();
    }
}
