//! The container, described as one value. The command line fills it (and,
//! later, an OCI config.json); the launcher only reads it.

use crate::report::{Failure, error};
use crate::sys::CStrs;
use core::ffi::CStr;

pub const DEFAULT_HOSTNAME: &CStr = c"tiny-container";
pub const DEFAULT_PATH: &CStr = c"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// sethostname(2) takes at most HOST_NAME_MAX bytes.
pub const HOSTNAME_MAX: usize = 64;

pub struct Spec {
    /// The command and its arguments, as execve(2) takes them.
    pub args: CStrs,
    /// The container's root; None keeps the host's files visible.
    pub rootfs: Option<&'static CStr>,
    pub hostname: &'static CStr,
    /// The working directory inside.
    pub cwd: &'static CStr,
    pub env: Env,
    /// pivot_root(2) into the rootfs; false forces chroot(2).
    pub pivot: bool,
    /// Keep a minimal pid 1 of ours in front of the command.
    pub init: bool,
    /// A new network namespace with only the loopback interface, up.
    pub net: bool,
    pub limits: Limits,
    /// The cgroup to make, under the caller's own; None means
    /// tinyrun-<pid>.
    pub cgroup: Option<&'static CStr>,
    /// Create the child straight into its cgroup with clone3(2) where the
    /// kernel can (cgroup v2, Linux 5.7).
    pub clone3: bool,
}

impl Spec {
    pub fn new(args: CStrs) -> Spec {
        Spec {
            args,
            rootfs: None,
            hostname: DEFAULT_HOSTNAME,
            cwd: c"/",
            env: Env::new(),
            pivot: true,
            init: true,
            net: false,
            limits: Limits::default(),
            cgroup: None,
            clone3: true,
        }
    }
}

/// Resource limits, written to cgroupfs. None is "no limit".
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Limits {
    pub pids: Option<u64>,
    /// Bytes.
    pub memory: Option<u64>,
    /// Microseconds of CPU time per 100 ms period.
    pub cpu_quota: Option<u64>,
}

impl Limits {
    pub const CPU_PERIOD: u64 = 100_000;
}

/// The container's environment variables, `KEY=VALUE` strings that live as
/// long as the program (argv and envp, or static): the defaults, then what
/// the caller sets. HOSTNAME is added at execve, unless set here.
pub struct Env {
    vars: [&'static CStr; Env::MAX],
    len: usize,
}

impl Env {
    /// The variables of `-e` and ours, and room for HOSTNAME.
    pub const MAX: usize = 128;

    /// The defaults every container gets, unless replaced.
    pub const fn new() -> Env {
        let mut vars = [c""; Env::MAX];
        vars[0] = DEFAULT_PATH;
        vars[1] = c"HOME=/root";
        Env { vars, len: 2 }
    }

    /// Sets `KEY=VALUE`, replacing a variable with the same key.
    pub fn set(&mut self, var: &'static CStr) -> Result<(), Failure> {
        let key = key(var.to_bytes()).unwrap_or(b"");
        let mut i = 0;
        while i < self.len && !key_is(self.vars[i].to_bytes(), key) {
            i += 1;
        }
        if i == Env::MAX - 1 {
            return Err(error("--env: too many variables", &[]));
        }
        self.vars[i] = var;
        self.len = self.len.max(i + 1);
        Ok(())
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &[u8]) -> Option<&'static [u8]> {
        self.iter().find(|v| key_is(v, key)).map(|v| &v[key.len() + 1..])
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static [u8]> + '_ {
        self.vars[..self.len].iter().map(|v| v.to_bytes())
    }

    pub fn vars(&self) -> &[&'static CStr] {
        &self.vars[..self.len]
    }
}

impl Default for Env {
    fn default() -> Env {
        Env::new()
    }
}

/// The key of `KEY=VALUE`; None without `=` or with an empty key.
pub fn key(var: &[u8]) -> Option<&[u8]> {
    let eq = var.iter().position(|&b| b == b'=')?;
    (eq > 0).then(|| &var[..eq])
}

/// Whether `var` is `key=...`.
pub fn key_is(var: &[u8], key: &[u8]) -> bool {
    var.len() > key.len() && var.starts_with(key) && var[key.len()] == b'='
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_replaces_by_key_and_reads_values() {
        let mut env = Env::new();
        env.set(c"PATH=/bin").unwrap();
        env.set(c"A=1").unwrap();
        env.set(c"PATH=/usr/bin").unwrap();
        assert_eq!(env.get(b"PATH"), Some(&b"/usr/bin"[..]));
        assert_eq!(env.get(b"A"), Some(&b"1"[..]));
        assert_eq!(env.get(b"PAT"), None);
        assert_eq!(env.get(b"HOME"), Some(&b"/root"[..]));
        assert_eq!(env.vars().len(), 3);
        env.set(c"EMPTY=").unwrap();
        assert_eq!(env.get(b"EMPTY"), Some(&b""[..]));
    }

    #[test]
    fn env_is_bounded() {
        let mut env = Env::new();
        let mut n = 0;
        while env.set(Box::leak(std::ffi::CString::new(format!("V{n}=x")).unwrap().into_boxed_c_str())).is_ok() {
            n += 1;
        }
        // Room is left for HOSTNAME, added at execve.
        assert_eq!(env.vars().len(), Env::MAX - 1);
        assert_eq!(crate::report::captured::last(), "tinyrun: --env: too many variables");
        env.set(c"V0=replaced").unwrap();
        assert_eq!(env.get(b"V0"), Some(&b"replaced"[..]));
    }
}
