//! Resource limits through cgroupfs: the demo's "namespaces control what you
//! can see, cgroups control what you can use". Only directories and files,
//! on both layouts hosts have:
//!
//! - cgroup v2, one hierarchy at /sys/fs/cgroup (cgroups(7), cgroup-v2.rst);
//! - cgroup v1, one hierarchy per controller under a tmpfs at
//!   /sys/fs/cgroup, maybe with a cgroup2 mount beside them ("hybrid") that
//!   holds the controllers no v1 hierarchy took.
//!
//! Each controller is used where the kernel has it, so a hybrid host works.
//! The container's cgroup is made under the caller's own, as runc does, so
//! that a limited caller stays limited.

use crate::file::{self, Lines};
use crate::report::{Buf, Failure, decimal, error, note, step, trace};
use crate::spec::{Limits, Spec};
use crate::sys::{self, Errno, Fd, Pid};
use core::ffi::CStr;

pub const PIDS: u8 = 1;
pub const MEMORY: u8 = 2;
pub const CPU: u8 = 4;
const NAMES: [(u8, &[u8]); 3] = [(PIDS, b"pids"), (MEMORY, b"memory"), (CPU, b"cpu")];

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// A cgroup directory of ours, in a v1 hierarchy or in v2, open.
struct Dir {
    path: Buf,
    fd: Fd,
    v2: bool,
    /// The controllers whose limits go here.
    ctl: u8,
}

/// The container's cgroups: none without limits, else one directory per
/// hierarchy that holds a controller we need.
pub struct Cgroups {
    dirs: [Dir; 3],
    n: usize,
}

/// The controllers named in a list such as `rw,nosuid,pids` or `cpu io`.
pub fn mask(list: &[u8]) -> u8 {
    let mut m = 0;
    for word in list.split(|&b| b == b',' || b == b' ' || b == b'\n') {
        m |= match word {
            b"pids" => PIDS,
            b"memory" => MEMORY,
            b"cpu" => CPU,
            _ => 0,
        };
    }
    m
}

fn needed(l: &Limits) -> u8 {
    (l.pids.is_some() as u8 * PIDS) | (l.memory.is_some() as u8 * MEMORY) | (l.cpu_quota.is_some() as u8 * CPU)
}

/// The fields of a /proc/self/mountinfo line (proc(5)) that we need.
#[derive(Debug, PartialEq)]
pub struct MountLine<'a> {
    pub root: &'a [u8],
    pub point: &'a [u8],
    pub fstype: &'a [u8],
    pub options: &'a [u8],
}

/// `36 35 98:0 /root /point rw,noatime master:1 - fstype source super,options`
pub fn parse_mountinfo(line: &[u8]) -> Option<MountLine<'_>> {
    let f = fields(line, b' ');
    // Optional fields come before the ` - ` that ends them.
    let tail = line.windows(3).position(|w| w == b" - ")?;
    let [fstype, _, options, _, _] = fields(&line[tail + 3..], b' ');
    (!options.is_empty()).then_some(MountLine { root: f[3], point: f[4], fstype, options })
}

/// The caller's cgroup in a hierarchy, from a /proc/self/cgroup line
/// (`4:memory:/user.slice` for v1, `0::/user.slice` for v2).
pub fn own_cgroup(line: &[u8], v2: bool, ctl: u8) -> Option<&[u8]> {
    let [id, controllers, ..] = fields(line, b':');
    let path = &line[(id.len() + controllers.len() + 2).min(line.len())..];
    let ours = if v2 { id == b"0" && controllers.is_empty() } else { mask(controllers) & ctl != 0 };
    (ours && path.first() == Some(&b'/')).then_some(path)
}

/// The first five fields of `line` split at `sep`; missing ones are empty.
fn fields(line: &[u8], sep: u8) -> [&[u8]; 5] {
    let mut out = [&b""[..]; 5];
    for (slot, field) in out.iter_mut().zip(line.split(|&b| b == sep)) {
        *slot = field;
    }
    out
}

impl Cgroups {
    pub const fn none() -> Cgroups {
        const NONE: Dir = Dir { path: Buf::new(), fd: -1, v2: false, ctl: 0 };
        Cgroups { dirs: [NONE, NONE, NONE], n: 0 }
    }

    /// Makes the container's cgroups and writes its limits; without limits,
    /// makes nothing. What it made, `remove` removes, also after a failure.
    ///
    /// It finds the hierarchies that hold what we need, v1 ones first (a
    /// controller bound to v1 is missing from v2), and makes a directory in
    /// each. statfs(2) tells a pure v2 host at once; otherwise
    /// /proc/self/mountinfo says where each hierarchy is.
    pub fn create(&mut self, spec: &Spec) -> Result<(), Failure> {
        let mut left = needed(&spec.limits);
        if left == 0 {
            return Ok(());
        }
        let (mut v2, mut v2_root) = (Buf::new(), Buf::new());
        if sys::statfs_type(c"/sys/fs/cgroup") == Ok(CGROUP2_SUPER_MAGIC) {
            note("statfs(/sys/fs/cgroup): cgroup2 only", &[]);
            v2.s(b"/sys/fs/cgroup");
            v2_root.s(b"/");
        } else {
            let mut buf = [0u8; 4096];
            let mut lines = step("open(/proc/self/mountinfo)", &[], Lines::open(c"/proc/self/mountinfo", &mut buf))?;
            while let Some(line) = lines.next_line() {
                let Some(m) = parse_mountinfo(line) else { continue };
                let ctl = mask(m.options) & left;
                if m.fstype == b"cgroup" && ctl != 0 {
                    self.add(spec, m.point, m.root, false, ctl)?;
                    left &= !ctl;
                } else if m.fstype == b"cgroup2" && v2.is_empty() {
                    v2.s(m.point);
                    v2_root.s(m.root);
                }
            }
        }
        if left != 0 {
            if v2.is_empty() {
                let mut names = Buf::new();
                for (bit, name) in NAMES {
                    if left & bit != 0 {
                        names.t(" ").s(name);
                    }
                }
                return Err(error("cgroup: no hierarchy has the controller%", &[names.bytes()]));
            }
            self.add(spec, v2.bytes(), v2_root.bytes(), true, left)?;
        }
        Ok(())
    }

    /// Makes our cgroup in one hierarchy, under our own cgroup there, and
    /// writes its limits.
    fn add(&mut self, spec: &Spec, point: &[u8], root: &[u8], v2: bool, ctl: u8) -> Result<(), Failure> {
        let d = &mut self.dirs[self.n];
        d.v2 = v2;
        d.ctl = ctl;
        let mut buf = [0u8; 4096];
        let mut lines = step("open(/proc/self/cgroup)", &[], Lines::open(c"/proc/self/cgroup", &mut buf))?;
        let own = loop {
            let Some(line) = lines.next_line() else {
                return Err(error("/proc/self/cgroup: ours is not listed", &[]));
            };
            if let Some(own) = own_cgroup(line, v2, ctl) {
                break own;
            }
        };
        own_dir(&mut d.path, point, root, own);
        if v2 {
            enable(d.path.bytes(), point.len(), ctl)?;
        }
        match spec.cgroup {
            Some(name) => d.path.s(b"/").s(name.to_bytes()),
            None => d.path.s(b"/tinyrun-").s(decimal(sys::getpid() as u64, &mut [0; 20])),
        };
        let path = &[d.path.bytes()];
        step("mkdir(%)", path, d.path.c().and_then(|p| sys::mkdir(p, 0o755)))?;
        self.n += 1;
        d.fd = step("open(%)", path, d.path.c().and_then(|p| sys::open(p, libc::O_DIRECTORY)))?;
        d.write_limits(&spec.limits)
    }

    /// The v2 directory to create the child in with clone3, if any.
    pub fn v2_dir(&self) -> Option<Fd> {
        self.dirs[..self.n].iter().find(|d| d.v2).map(|d| d.fd)
    }

    /// Whether the child, created outside (or inside the v2 directory),
    /// must be moved in with writes to cgroup.procs.
    pub fn needs_join(&self, cloned_into: bool) -> bool {
        self.dirs[..self.n].iter().any(|d| !(d.v2 && cloned_into))
    }

    /// Moves `pid` into every cgroup it was not created in.
    pub fn join(&self, pid: Pid, cloned_into: bool) -> Result<(), Failure> {
        let mut digits = [0u8; 20];
        let pid = decimal(pid as u64, &mut digits);
        for d in self.dirs[..self.n].iter().filter(|d| !(d.v2 && cloned_into)) {
            d.write(c"cgroup.procs", pid)?;
        }
        Ok(())
    }

    /// How many processes the kernel's OOM killer killed in our memory
    /// cgroup: oom_kill in memory.events (v2) or memory.oom_control (v1).
    pub fn oom_kills(&self) -> u64 {
        let Some(d) = self.dirs[..self.n].iter().find(|d| d.ctl & MEMORY != 0) else {
            return 0;
        };
        let file = if d.v2 { c"memory.events" } else { c"memory.oom_control" };
        file::keyed(file::read_at(d.fd, file, &mut [0; 512]), b"oom_kill").unwrap_or(0)
    }

    /// Removes our cgroups, killing whatever is left in them first.
    pub fn remove(&mut self) {
        while self.n > 0 {
            self.n -= 1;
            self.dirs[self.n].remove();
        }
    }
}

/// Our own cgroup's directory in the hierarchy mounted at `point`: `own`,
/// a /proc/self/cgroup path, is below `root`, the cgroup mounted there.
pub fn own_dir(path: &mut Buf, point: &[u8], root: &[u8], own: &[u8]) {
    let own = if root == b"/" { own } else { own.strip_prefix(root).unwrap_or(own) };
    path.s(point).s(own.strip_suffix(b"/").unwrap_or(own));
}

/// On v2 a controller works in a cgroup only if every ancestor has it in
/// cgroup.subtree_control: walks from the mount point, the first `end`
/// bytes of `dir`, down to `dir`, our own cgroup, turning on what is
/// missing. (Our own cgroup must then hold no process, the "no internal
/// processes" rule, unless it is the root.)
fn enable(dir: &[u8], mut end: usize, ctl: u8) -> Result<(), Failure> {
    loop {
        let control = Buf::of(&[&dir[..end], b"/cgroup.subtree_control"]);
        let mut buf = [0u8; 256];
        let on = mask(control.c().map_or(&[][..], |p| file::read_at(libc::AT_FDCWD, p, &mut buf)));
        let mut add = Buf::new();
        for (bit, name) in NAMES {
            if ctl & !on & bit != 0 {
                add.t(" +").s(name);
            }
        }
        if on & ctl != ctl {
            let r = control.c().and_then(|p| file::write_at(libc::AT_FDCWD, p, &add.bytes()[1..]));
            step("write(%, %)", &[control.bytes(), &add.bytes()[1..]], r)?;
        }
        if end == dir.len() {
            return Ok(());
        }
        end += 1;
        while end < dir.len() && dir[end] != b'/' {
            end += 1;
        }
    }
}

impl Dir {
    fn write_limits(&self, l: &Limits) -> Result<(), Failure> {
        let mut digits = [0u8; 20];
        if let Some(pids) = l.pids.filter(|_| self.ctl & PIDS != 0) {
            self.write(c"pids.max", decimal(pids, &mut digits))?;
        }
        if let Some(bytes) = l.memory.filter(|_| self.ctl & MEMORY != 0) {
            let bytes = decimal(bytes, &mut digits);
            // --memory is all the memory: no swap on top, where the kernel
            // accounts for swap (the files are missing where it does not).
            let (limit, swap, no_swap) = match self.v2 {
                true => (c"memory.max", c"memory.swap.max", &b"0"[..]),
                false => (c"memory.limit_in_bytes", c"memory.memsw.limit_in_bytes", bytes),
            };
            self.write(limit, bytes)?;
            if sys::access_at(self.fd, swap) {
                self.write(swap, no_swap)?;
            }
        }
        if let Some(quota) = l.cpu_quota.filter(|_| self.ctl & CPU != 0) {
            // A new cgroup's CFS period is already the kernel's default 100 ms.
            let mut max = Buf::new();
            max.n(quota);
            if self.v2 {
                max.t(" ").n(Limits::CPU_PERIOD);
            }
            self.write(if self.v2 { c"cpu.max" } else { c"cpu.cfs_quota_us" }, max.bytes())?;
        }
        Ok(())
    }

    /// Writes `value` to one of our cgroup's files, in one write(2).
    fn write(&self, file: &CStr, value: &[u8]) -> Result<(), Failure> {
        let r = file::write_at(self.fd, file, value);
        step("write(%/%, %)", &[self.path.bytes(), file.to_bytes(), value], r)
    }

    /// rmdir, once the cgroup is empty. The container's pid 1 has exited,
    /// so the kernel has killed the rest of its pid namespace; stragglers
    /// (a process that left the namespace, a slow exit) are killed here:
    /// all at once with cgroup.kill (v2, Linux 5.14), else one by one.
    /// Errors are reported, not returned: this runs on every way out.
    fn remove(&self) {
        for tries in 0.. {
            let r = self.path.c().and_then(sys::rmdir);
            if r != Err(Errno::EBUSY) || tries == 1000 {
                let _ = step("rmdir(%)", &[self.path.bytes()], r);
                return;
            }
            if !(self.v2 && self.write(c"cgroup.kill", b"1").is_ok()) {
                self.kill_all();
            }
            sys::sleep_ns(5_000_000);
        }
    }

    fn kill_all(&self) {
        let Ok(fd) = sys::openat(self.fd, c"cgroup.procs", libc::O_RDONLY) else { return };
        let mut buf = [0u8; 1024];
        let mut lines = Lines::from_fd(fd, &mut buf);
        while let Some(line) = lines.next_line() {
            if let Some(pid) = crate::cli::parse_number(line, 0, false) {
                trace("kill(%, SIGKILL)", &[line], sys::kill(pid as Pid, libc::SIGKILL).map(|_| 0));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_masks() {
        assert_eq!(mask(b"rw,nosuid,nodev,noexec,relatime,pids"), PIDS);
        assert_eq!(mask(b"rw,cpu,cpuacct"), CPU);
        assert_eq!(mask(b"cpuset cpu io memory hugetlb pids rdma misc\n"), PIDS | MEMORY | CPU);
        assert_eq!(mask(b"rw,cpuacct"), 0);
        assert_eq!(mask(b"rw,name=systemd"), 0);
    }

    #[test]
    fn mountinfo_lines() {
        let l = b"33 25 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids";
        assert_eq!(
            parse_mountinfo(l),
            Some(MountLine { root: b"/", point: b"/sys/fs/cgroup/pids", fstype: b"cgroup", options: b"rw,pids" })
        );
        let l = b"40 25 0:35 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate";
        assert_eq!(parse_mountinfo(l).unwrap().fstype, b"cgroup2");
        // No optional fields at all, and a mount root below the hierarchy's.
        let l = b"1 0 0:1 /docker/x /sys/fs/cgroup rw - cgroup2 none rw";
        assert_eq!(parse_mountinfo(l).unwrap().root, b"/docker/x");
        assert_eq!(parse_mountinfo(b"garbage"), None);
    }

    #[test]
    fn own_cgroup_lines() {
        let v1 = b"4:memory:/process_api/8b1f";
        assert_eq!(own_cgroup(v1, false, MEMORY), Some(&b"/process_api/8b1f"[..]));
        assert_eq!(own_cgroup(v1, false, PIDS), None);
        assert_eq!(own_cgroup(v1, true, 0), None);
        assert_eq!(own_cgroup(b"1:cpu,cpuacct:/a", false, CPU), Some(&b"/a"[..]));
        assert_eq!(own_cgroup(b"9:name=systemd:/", false, PIDS), None);
        assert_eq!(own_cgroup(b"0::/user.slice", true, 0), Some(&b"/user.slice"[..]));
        assert_eq!(own_cgroup(b"0::/", false, PIDS), None);
    }

    #[test]
    fn our_cgroup_nests_under_the_callers_own() {
        let dir = |point: &str, root: &str, own: &str| {
            let mut b = Buf::new();
            own_dir(&mut b, point.as_bytes(), root.as_bytes(), own.as_bytes());
            String::from_utf8(b.bytes().to_vec()).unwrap()
        };
        assert_eq!(dir("/sys/fs/cgroup/pids", "/", "/"), "/sys/fs/cgroup/pids");
        assert_eq!(dir("/sys/fs/cgroup/memory", "/", "/api/x"), "/sys/fs/cgroup/memory/api/x");
        assert_eq!(dir("/sys/fs/cgroup", "/docker/x", "/docker/x/sub"), "/sys/fs/cgroup/sub");
        assert_eq!(dir("/sys/fs/cgroup", "/docker/x", "/docker/x"), "/sys/fs/cgroup");
    }

    #[test]
    fn limits_pick_their_controllers() {
        assert_eq!(needed(&Limits::default()), 0);
        assert_eq!(needed(&Limits { pids: Some(1), memory: None, cpu_quota: Some(1000) }), PIDS | CPU);
    }
}
