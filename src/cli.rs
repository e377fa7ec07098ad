//! The command line: turns argv into a `Spec`, or into help, version or a
//! one-line usage error (exit 125, as runc and crun do).

use crate::report::{Failure, error};
use crate::spec::{self, Spec};
use crate::sys::CStrs;
use core::ffi::CStr;

pub const HELP: &str = "\
usage: tinyrun run [OPTIONS] [--] COMMAND [ARG...]     a container
       tinyrun --help | --version
  --rootfs DIR     its root (without: the host's files, new namespaces)
  --hostname NAME  default tiny-container
  -e, --env K=V    set a variable; -e K passes ours on
  -w, --cwd DIR    working directory inside, default /
  --no-pivot       chroot, not pivot_root (escapable)
  --no-init        COMMAND is pid 1 itself, without tinyrun's init
  --net            a new network namespace, loopback only
  --pids-max N     at most N tasks
  --memory SIZE    bytes, or 64k, 64m, 1g
  --cpus X         CPU time, in CPUs (0.5: 50 ms each 100 ms)
  --cgroup NAME    its cgroup, under ours (default tinyrun-<pid>)
  --trace          print each step to stderr as it happens
Exit status: COMMAND's, 128+N if signal N killed it, 125 if tinyrun
failed, 126 if COMMAND cannot be executed, 127 if it is not found.
";

// Made once, and matched at once: no point in boxing the spec.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Help or version: text for stdout.
    Print(&'static str),
    Run(Spec),
}

/// The options of `run`; those from Rootfs on take a value.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Opt {
    Help,
    Version,
    NoPivot,
    NoInit,
    Net,
    Trace,
    Rootfs,
    Hostname,
    Env,
    Cwd,
    PidsMax,
    Memory,
    Cpus,
    Cgroup,
}

/// A table rather than a `match` on strings, which compiles to a chain of
/// byte compares per option: a third of the size.
const OPTIONS: [(&str, Opt); 18] = [
    ("-h", Opt::Help),
    ("--help", Opt::Help),
    ("-V", Opt::Version),
    ("--version", Opt::Version),
    ("--no-pivot", Opt::NoPivot),
    ("--no-init", Opt::NoInit),
    ("--net", Opt::Net),
    ("--trace", Opt::Trace),
    ("--rootfs", Opt::Rootfs),
    ("--hostname", Opt::Hostname),
    ("-e", Opt::Env),
    ("--env", Opt::Env),
    ("-w", Opt::Cwd),
    ("--cwd", Opt::Cwd),
    ("--pids-max", Opt::PidsMax),
    ("--memory", Opt::Memory),
    ("--cpus", Opt::Cpus),
    ("--cgroup", Opt::Cgroup),
];

fn option(name: &[u8]) -> Option<Opt> {
    OPTIONS.iter().find(|(n, _)| n.as_bytes() == name).map(|&(_, o)| o)
}

/// Parses the arguments after the program name; `environ` is the caller's
/// environment, for TERM and `-e KEY`. Errors are reported here.
pub fn parse(mut args: CStrs, environ: CStrs) -> Result<Command, Failure> {
    let mut spec = Spec::new(crate::sys::EMPTY);
    if let Some(term) = find(environ, b"TERM") {
        let _ = spec.env.set(term);
    }
    let verb = args.next().map_or(&b""[..], CStr::to_bytes);
    if verb != b"run" {
        return match option(verb) {
            Some(Opt::Help) => Ok(Command::Print(HELP)),
            Some(Opt::Version) => Ok(Command::Print(VERSION)),
            _ => Err(error("unknown command '%' (see tinyrun --help)", &[verb])),
        };
    }
    // Options, up to the first word that is not one (or `--`).
    while let Some(arg) = args.first().filter(|a| a.to_bytes().len() > 1 && a.to_bytes()[0] == b'-') {
        args.next();
        let a = arg.to_bytes();
        if a == b"--" {
            break;
        }
        // --name=value, or --name value.
        let eq = a.iter().position(|&b| b == b'=').filter(|_| a[1] == b'-');
        let name = &a[..eq.unwrap_or(a.len())];
        let Some(opt) = option(name) else {
            return Err(error("unknown option '%' (see tinyrun --help)", &[a]));
        };
        let mut value = c"";
        if opt >= Opt::Rootfs {
            value = match eq {
                // The rest of the argument is still NUL-terminated.
                Some(eq) => crate::sys::tail(arg, eq + 1),
                None => args.next().ok_or_else(|| error("% needs a value (see tinyrun --help)", &[name]))?,
            };
        }
        let v = value.to_bytes();
        match opt {
            Opt::Help => return Ok(Command::Print(HELP)),
            Opt::Version => return Ok(Command::Print(VERSION)),
            Opt::NoPivot => spec.pivot = false,
            Opt::NoInit => spec.init = false,
            Opt::Net => spec.net = true,
            Opt::Trace => crate::report::set_trace(true),
            Opt::Rootfs => spec.rootfs = Some(value),
            Opt::Hostname if v.len() > spec::HOSTNAME_MAX => {
                return Err(error("--hostname %: longer than 64 bytes", &[v]));
            }
            Opt::Hostname => spec.hostname = value,
            // -e KEY passes our KEY on, if we have it.
            Opt::Env => match (spec::key(v), find(environ, v)) {
                (Some(_), _) => spec.env.set(value)?,
                (None, Some(ours)) if !v.is_empty() => spec.env.set(ours)?,
                (None, None) if !v.is_empty() && !crate::buf::has(v, b'=') => {}
                _ => return Err(error("--env %: not KEY=VALUE", &[v])),
            },
            Opt::Cwd => spec.cwd = value,
            Opt::Cgroup => spec.cgroup = Some(value),
            Opt::PidsMax => spec.limits.pids = Some(number(name, v, 0, false)?),
            Opt::Memory => spec.limits.memory = Some(number(name, v, 0, true)?),
            Opt::Cpus => spec.limits.cpu_quota = Some(number(name, v, 5, false)?),
        }
    }
    if args.is_empty() {
        return Err(error("run: no command given (see tinyrun --help)", &[]));
    }
    spec.args = args;
    // A test switch: act as a kernel without clone3(2) would.
    if find(environ, b"TINYRUN_NO_CLONE3").is_some() {
        spec.clone3 = false;
    }
    Ok(Command::Run(spec))
}

/// The `KEY=VALUE` string for `key` in an environment.
fn find(environ: CStrs, key: &[u8]) -> Option<&'static CStr> {
    environ.into_iter().find(|v| spec::key_is(v.to_bytes(), key))
}

/// A limit's value, or a one-line error that names the option.
fn number(name: &[u8], v: &[u8], places: u32, units: bool) -> Result<u64, Failure> {
    let what = match (places, units) {
        (0, false) => "not a positive whole number",
        (0, true) => "not a size (bytes, or a number with k, m or g)",
        _ => "not a number of CPUs of at least 0.01",
    };
    match parse_number(v, places, units) {
        // The kernel takes no CPU quota under 1 ms a period.
        Some(n) if places == 0 || n >= 1000 => Ok(n),
        _ => Err(error("% %: %", &[name, v, what.as_bytes()])),
    }
}

/// A positive decimal number scaled by 10^places: "0.5" with 5 places is
/// 50000 (CPUs to microseconds per 100 ms). With `units`, a k, m or g
/// suffix multiplies by 1024, 1024² or 1024³, as docker's --memory does.
pub fn parse_number(s: &[u8], places: u32, units: bool) -> Option<u64> {
    let (mut n, mut digits, mut frac, mut shift) = (0u64, 0, None::<u32>, 0);
    for (i, &b) in s.iter().enumerate() {
        let last = i + 1 == s.len();
        match b {
            // 15 digits, scaled by 10^5 at most, fit in 64 bits.
            b'0'..=b'9' if digits < 15 && frac != Some(places) => {
                n = n * 10 + (b - b'0') as u64;
                digits += 1;
                frac = frac.map(|f| f + 1);
            }
            b'.' if places > 0 && frac.is_none() => frac = Some(0),
            b'k' | b'K' if units && last => shift = 10,
            b'm' | b'M' if units && last => shift = 20,
            b'g' | b'G' if units && last => shift = 30,
            _ => return None,
        }
    }
    for _ in frac.unwrap_or(0)..places {
        n *= 10;
    }
    let n = n.checked_mul(1 << shift)?;
    (n > 0).then_some(n)
}

pub const VERSION: &str = concat!("tinyrun ", env!("CARGO_PKG_VERSION"), "\n");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Limits;
    use std::ffi::CString;

    /// argv as the kernel would pass it: NULL-terminated, living forever.
    fn argv(words: &[&str]) -> CStrs {
        let mut ptrs: Vec<*const core::ffi::c_char> =
            words.iter().map(|w| CString::new(*w).unwrap().into_raw() as *const _).collect();
        ptrs.push(core::ptr::null());
        unsafe { CStrs::new(Box::leak(ptrs.into_boxed_slice()).as_ptr()) }
    }

    fn run(words: &[&str]) -> Result<Spec, String> {
        run_env(words, &[])
    }

    fn run_env(words: &[&str], env: &[&str]) -> Result<Spec, String> {
        match parse(argv(words), argv(env)) {
            Ok(Command::Run(spec)) => Ok(spec),
            Ok(Command::Print(_)) => Err("help or version".into()),
            Err(f) => {
                assert_eq!(f.0, 125);
                Err(crate::report::captured::last())
            }
        }
    }

    fn args(spec: &Spec) -> Vec<String> {
        spec.args.map(|a| a.to_str().unwrap().to_string()).collect()
    }

    #[test]
    fn defaults() {
        let s = run(&["run", "sh"]).unwrap();
        assert_eq!(args(&s), ["sh"]);
        assert_eq!(s.hostname, c"tiny-container");
        assert_eq!(s.cwd, c"/");
        assert!(s.rootfs.is_none() && s.pivot && s.init && !s.net && s.clone3);
        assert!(s.limits == Limits::default() && s.cgroup.is_none());
        assert_eq!(s.env.vars(), [crate::spec::DEFAULT_PATH, c"HOME=/root"]);
    }

    #[test]
    fn options_in_both_forms_then_the_command() {
        let s = run(&[
            "run",
            "--rootfs",
            "/r",
            "--hostname=box",
            "-e",
            "A=1",
            "--env=B=2",
            "-w",
            "/tmp",
            "--no-pivot",
            "--no-init",
            "--net",
            "--pids-max",
            "20",
            "--memory=64m",
            "--cpus",
            "0.5",
            "--cgroup",
            "t/x",
            "ls",
            "-l",
            "--rootfs",
        ])
        .unwrap();
        assert_eq!(s.rootfs, Some(c"/r"));
        assert_eq!(s.hostname, c"box");
        assert_eq!(s.cwd, c"/tmp");
        assert_eq!(s.env.get(b"A"), Some(&b"1"[..]));
        assert_eq!(s.env.get(b"B"), Some(&b"2"[..]));
        assert!(!s.pivot && !s.init && s.net);
        assert_eq!(s.limits, Limits { pids: Some(20), memory: Some(64 << 20), cpu_quota: Some(50_000) });
        assert_eq!(s.cgroup, Some(c"t/x"));
        assert_eq!(args(&s), ["ls", "-l", "--rootfs"]);
    }

    #[test]
    fn double_dash_ends_options() {
        let s = run(&["run", "--", "--weird", "x"]).unwrap();
        assert_eq!(args(&s), ["--weird", "x"]);
    }

    #[test]
    fn environment_defaults_and_passthrough() {
        let s =
            run_env(&["run", "-e", "HOME", "-e", "NOPE", "-e", "TERM=dumb", "x"], &["TERM=xterm", "HOME=/h"]).unwrap();
        assert_eq!(s.env.get(b"TERM"), Some(&b"dumb"[..]));
        assert_eq!(s.env.get(b"HOME"), Some(&b"/h"[..]));
        assert_eq!(s.env.get(b"NOPE"), None);
        let s = run_env(&["run", "x"], &["TERM=xterm", "TINYRUN_NO_CLONE3=1"]).unwrap();
        assert_eq!(s.env.get(b"TERM"), Some(&b"xterm"[..]));
        assert!(!s.clone3);
    }

    #[test]
    fn errors_are_one_line_and_name_the_input() {
        let err = |w: &[&str]| run(w).err().unwrap();
        assert_eq!(err(&["frob"]), "tinyrun: unknown command 'frob' (see tinyrun --help)");
        assert_eq!(err(&[]), "tinyrun: unknown command '' (see tinyrun --help)");
        assert_eq!(err(&["run", "--bogus", "x"]), "tinyrun: unknown option '--bogus' (see tinyrun --help)");
        assert_eq!(err(&["run"]), "tinyrun: run: no command given (see tinyrun --help)");
        assert_eq!(err(&["run", "--rootfs"]), "tinyrun: --rootfs needs a value (see tinyrun --help)");
        assert_eq!(err(&["run", "--pids-max", "0x", "x"]), "tinyrun: --pids-max 0x: not a positive whole number");
        assert_eq!(
            err(&["run", "--memory", "lots", "x"]),
            "tinyrun: --memory lots: not a size (bytes, or a number with k, m or g)"
        );
        assert_eq!(err(&["run", "--cpus", "-1", "x"]), "tinyrun: --cpus -1: not a number of CPUs of at least 0.01");
        assert_eq!(
            err(&["run", "--cpus", "0.009", "x"]),
            "tinyrun: --cpus 0.009: not a number of CPUs of at least 0.01"
        );
        assert_eq!(err(&["run", "--no-init"]), "tinyrun: run: no command given (see tinyrun --help)");
        assert_eq!(err(&["run", "-e", "=x", "y"]), "tinyrun: --env =x: not KEY=VALUE");
        let long = "h".repeat(65);
        assert!(err(&["run", "--hostname", &long, "x"]).ends_with(": longer than 64 bytes"));
        assert!(run(&["run", "--hostname", &"h".repeat(64), "x"]).is_ok());
    }

    #[test]
    fn help_and_version() {
        for w in [&["--help"][..], &["-V"], &["run", "-h", "x"], &["run", "--version"], &["-h", "junk"]] {
            assert!(matches!(parse(argv(w), argv(&[])), Ok(Command::Print(_))));
        }
    }

    #[test]
    fn counts() {
        let count = |s: &[u8]| parse_number(s, 0, false);
        assert_eq!(count(b"20"), Some(20));
        assert_eq!(count(b"999999999999999"), Some(999_999_999_999_999));
        for bad in [&b""[..], b"0", b"0x", b"-1", b"1.5", b"9999999999999999", b"2k"] {
            assert_eq!(count(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sizes() {
        let size = |s: &[u8]| parse_number(s, 0, true);
        assert_eq!(size(b"4096"), Some(4096));
        assert_eq!(size(b"64m"), Some(64 << 20));
        assert_eq!(size(b"64M"), Some(64 << 20));
        assert_eq!(size(b"1g"), Some(1 << 30));
        assert_eq!(size(b"8k"), Some(8192));
        for bad in [&b"lots"[..], b"m", b"", b"1.5g", b"-1m", b"0", b"0k", b"999999999999g", b"1mm", b"1m1"] {
            assert_eq!(size(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cpus() {
        let cpus = |s: &[u8]| parse_number(s, 5, false);
        assert_eq!(cpus(b"0.5"), Some(50_000));
        assert_eq!(cpus(b".5"), Some(50_000));
        assert_eq!(cpus(b"2"), Some(200_000));
        assert_eq!(cpus(b"1.25"), Some(125_000));
        assert_eq!(cpus(b"0.01"), Some(1000));
        assert_eq!(cpus(b"0.009"), Some(900)); // refused by `number`: under 1 ms
        for bad in [&b"-1"[..], b"0", b"", b".", b"1.2.3", b"x", b"0.000001", b"1k"] {
            assert_eq!(cpus(bad), None, "{bad:?}");
        }
    }
}
