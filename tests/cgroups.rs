//! Resource limits (--pids-max, --memory, --cpus) on the real binary, on
//! this host's cgroup v1 hierarchies: the limits hold, the container sees
//! its cgroup as /, and no cgroup outlives its container, whatever the way
//! it ends. (cgroup v2 is covered by the VM tests.)

mod common;

use common::{
    Background, Run, TempDir, children, output, own_cgroup_dir, rootfs, run_in, tinyrun, wait_for_descendant,
    wait_until,
};
use std::fs;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

const CONTROLLERS: [&str; 3] = ["pids", "memory", "cpu"];

/// A cgroup name for tinyrun's --cgroup. Dropping it removes whatever a
/// broken tinyrun left in any hierarchy (ending our container's processes
/// still in it), so that a failed test leaves the machine clean too; the
/// tests themselves check that tinyrun removed it.
struct Cgroup {
    name: String,
}

impl Cgroup {
    fn new(what: &str) -> Cgroup {
        Cgroup { name: common::unique(what) }
    }

    /// Its directory in the hierarchy holding `controller`.
    fn dir(&self, controller: &str) -> PathBuf {
        own_cgroup_dir(controller).join(&self.name)
    }

    /// Its directories that exist, in any hierarchy.
    fn existing(&self) -> Vec<PathBuf> {
        CONTROLLERS.iter().map(|c| self.dir(c)).filter(|d| d.exists()).collect()
    }

    fn read(&self, controller: &str, file: &str) -> String {
        let path = self.dir(controller).join(file);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).trim_end().to_string()
    }

    /// The pids in it, in the hierarchy holding `controller`.
    fn procs(&self, controller: &str) -> Vec<u32> {
        self.read(controller, "cgroup.procs").lines().map(|l| l.parse().unwrap()).collect()
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        for dir in self.existing() {
            let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.parse::<i32>().ok()) {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            wait_until(2, || fs::remove_dir(&dir).is_ok() || !dir.exists());
        }
    }
}

/// Asserts that none of `cg`'s directories exist.
fn gone(cg: &Cgroup, r: &Run) {
    assert_eq!(cg.existing(), Vec::<PathBuf>::new(), "cgroup left behind: {r:#?}");
}

/// Ends a sleeping container with SIGTERM to tinyrun.
fn stop(bg: Background) -> Run {
    bg.signal(libc::SIGTERM);
    bg.finish(5)
}

// ---- the limits hold ----

/// The demo's fork bomb under --pids-max 20: the cgroup never holds more
/// than 20 tasks, the kernel says it refused forks at the limit, the host
/// can still fork, SIGTERM still ends it (143) and its cgroup goes.
#[test]
fn fork_bomb_is_held_at_pids_max() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let cg = Cgroup::new("bomb");
    let bomb = "(f(){ f|f& }; f) 2>/dev/null; sleep 30";
    let bg = Background::spawn(run_in(root.path(), &["--pids-max", "20", "--cgroup", &cg.name, "sh", "-c", bomb]));

    let current = cg.dir("pids").join("pids.current");
    assert!(wait_until(5, || current.exists()), "no pids cgroup {}", current.display());
    assert_eq!(cg.read("pids", "pids.max"), "20");
    let mut highest = 0;
    let end = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < end {
        if let Ok(n) = fs::read_to_string(&current) {
            highest = highest.max(n.trim().parse::<u32>().unwrap());
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    assert!((1..=20).contains(&highest), "pids.current reached {highest}");
    let events = cg.read("pids", "pids.events");
    let refused: u64 = events.strip_prefix("max ").and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(refused > 0, "pids.events: {events:?}");
    assert!(std::process::Command::new("true").status().unwrap().success(), "the host cannot fork");

    let r = stop(bg);
    assert_eq!(r.code, Some(143), "{r:#?}");
    gone(&cg, &r);
}

/// `tail /dev/zero` under --memory 32m is OOM-killed: 137, and --trace
/// says out of memory; its cgroup goes.
#[test]
fn memory_limit_oom_kills() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let cg = Cgroup::new("oom");
    let r = output(run_in(root.path(), &["--trace", "--memory", "32m", "--cgroup", &cg.name, "tail", "/dev/zero"]), 10);
    assert_eq!(r.code, Some(137), "{r:#?}");
    assert!(r.stderr.contains("out of memory"), "{r:#?}");
    gone(&cg, &r);
}

/// Under --cpus 0.5 a busy loop running for 1 s of wall time gets about
/// half a second of CPU (it would get 1 s unlimited: the host has 2 CPUs).
#[test]
fn cpus_half_gets_half_a_cpu() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let cg = Cgroup::new("cpu");
    let script = "while :; do :; done & sleep 1; cat /proc/$!/stat; kill $!";
    let r = output(run_in(root.path(), &["--cpus", "0.5", "--cgroup", &cg.name, "sh", "-c", script]), 10);
    let stat = r.ok().stdout.trim_end();
    // utime and stime, fields 14 and 15 of proc(5), after "pid (comm) ".
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    let secs = ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    assert!((0.3..=0.7).contains(&secs), "the loop had {secs} s of CPU in 1 s: {stat}");
    gone(&cg, &r);
}

/// The limits land in the cgroup files as given (memsw as memory, the CFS
/// quota per 100 ms period), and the container's processes are in them.
#[test]
fn limits_are_written_and_the_container_is_in_its_cgroups() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let cg = Cgroup::new("files");
    let args = ["--pids-max", "7", "--memory", "48m", "--cpus", "1.5", "--cgroup", &cg.name, "sleep", "30"];
    let bg = Background::spawn(run_in(root.path(), &args));
    let sleep = wait_for_descendant(bg.pid(), "sleep", 5).expect("the container's sleep never started");
    let init = children(bg.pid());

    assert_eq!(cg.read("pids", "pids.max"), "7");
    assert_eq!(cg.read("memory", "memory.limit_in_bytes"), (48 << 20).to_string());
    if cg.dir("memory").join("memory.memsw.limit_in_bytes").exists() {
        assert_eq!(cg.read("memory", "memory.memsw.limit_in_bytes"), (48 << 20).to_string());
    }
    assert_eq!(cg.read("cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(cg.read("cpu", "cpu.cfs_quota_us"), "150000");
    for c in CONTROLLERS {
        let mut procs = cg.procs(c);
        procs.sort();
        let mut want = [init.clone(), vec![sleep]].concat();
        want.sort();
        assert_eq!(procs, want, "{c}: not the container's processes");
    }
    let r = stop(bg);
    gone(&cg, &r);
}

/// --memory takes bytes or k, m, g suffixes (powers of 1024).
#[test]
fn memory_sizes() {
    if !common::root() {
        return;
    }
    for (size, bytes) in [("104857600", 104857600u64), ("102400k", 104857600), ("100m", 104857600), ("1g", 1 << 30)] {
        let cg = Cgroup::new("size");
        // Without --rootfs the host's cgroupfs is in sight.
        let file = cg.dir("memory").join("memory.limit_in_bytes");
        let r = output(tinyrun(["run", "--memory", size, "--cgroup", &cg.name, "cat", file.to_str().unwrap()]), 10);
        assert_eq!(r.ok().stdout, format!("{bytes}\n"), "--memory {size}");
        gone(&cg, &r);
    }
}

/// The container has its own cgroup namespace: its pids cgroup is "/".
#[test]
fn container_sees_its_cgroup_as_root() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let cg = Cgroup::new("cgns");
    let r = output(run_in(root.path(), &["--pids-max", "10", "--cgroup", &cg.name, "cat", "/proc/self/cgroup"]), 10);
    let pids = r.ok().stdout.lines().find(|l| l.split(':').nth(1) == Some("pids")).map(str::to_string);
    assert!(pids.as_deref().is_some_and(|l| l.ends_with(":pids:/")), "{r:#?}");
    gone(&cg, &r);
}

// ---- bad values ----

/// `FLAG VALUE` is refused before anything is made: 125, one line naming
/// both, and no cgroup.
fn rejected(flag: &str, value: &str) {
    let cg = Cgroup::new("bad");
    let r = output(tinyrun(["run", flag, value, "--cgroup", &cg.name, "true"]), 10);
    assert_eq!(r.code, Some(125), "{r:#?}");
    assert!(r.stderr.starts_with("tinyrun: ") && r.stderr.lines().count() == 1, "not one line: {r:#?}");
    assert!(r.stderr.contains(flag) && r.stderr.contains(value), "{r:#?}");
    gone(&cg, &r);
}

/// `--pids-max 0x` is refused.
#[test]
fn bad_pids_max() {
    rejected("--pids-max", "0x");
}

/// `--memory lots` is refused.
#[test]
fn bad_memory() {
    rejected("--memory", "lots");
}

/// `--cpus -1` is refused.
#[test]
fn bad_cpus() {
    rejected("--cpus", "-1");
}

// ---- no cgroup outlives its container ----

/// Without a limit flag no cgroup is made, even with --cgroup: none exists
/// while the container runs, and it stays in the caller's cgroups.
#[test]
fn no_cgroup_without_a_limit() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let cg = Cgroup::new("nolimit");
    let bg = Background::spawn(run_in(root.path(), &["--cgroup", &cg.name, "sleep", "30"]));
    let sleep = wait_for_descendant(bg.pid(), "sleep", 5).expect("the container's sleep never started");
    assert_eq!(cg.existing(), Vec::<PathBuf>::new(), "made without a limit");
    let ours = fs::read_to_string("/proc/self/cgroup").unwrap();
    assert_eq!(fs::read_to_string(format!("/proc/{sleep}/cgroup")).unwrap(), ours);
    stop(bg);
}

/// Without --cgroup the cgroup is tinyrun-<tinyrun's pid>, under ours; it
/// goes when the container ends.
#[test]
fn default_cgroup_name_is_tinyrun_pid() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let bg = Background::spawn(run_in(root.path(), &["--pids-max", "5", "sleep", "30"]));
    let cg = Cgroup { name: format!("tinyrun-{}", bg.pid()) };
    let sleep = wait_for_descendant(bg.pid(), "sleep", 5).expect("the container's sleep never started");
    assert!(cg.procs("pids").contains(&sleep), "sleep is not in {}", cg.dir("pids").display());
    let r = stop(bg);
    gone(&cg, &r);
}

/// When the container's init is killed with SIGKILL from outside, tinyrun
/// exits 137 and still removes the cgroup.
#[test]
fn cgroup_removed_when_container_sigkilled() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let cg = Cgroup::new("sigkill");
    let bg = Background::spawn(run_in(root.path(), &["--pids-max", "50", "--cgroup", &cg.name, "sleep", "30"]));
    wait_for_descendant(bg.pid(), "sleep", 5).expect("the container's sleep never started");
    assert!(cg.dir("pids").exists());
    let init = children(bg.pid());
    assert_eq!(init.len(), 1, "tinyrun's children: {init:?}");
    common::signal(init[0], libc::SIGKILL);
    let r = bg.finish(5);
    assert_eq!(r.code, Some(137), "{r:#?}");
    gone(&cg, &r);
}

/// When setup fails after the cgroup was made (a missing rootfs), tinyrun
/// exits 125 and removes it.
#[test]
fn cgroup_removed_when_setup_fails() {
    if !common::root() {
        return;
    }
    let cg = Cgroup::new("setup");
    let missing = TempDir::new("missing");
    let missing = missing.path().join("nonexistent");
    let r = output(run_in(&missing, &["--trace", "--pids-max", "5", "--cgroup", &cg.name, "true"]), 10);
    assert_eq!(r.code, Some(125), "{r:#?}");
    let made = format!("mkdir({}) = 0", cg.dir("pids").display());
    assert!(r.stderr.contains(&made), "the cgroup was not made first: {r:#?}");
    gone(&cg, &r);
}

/// When the command is not found (127) the cgroup goes too.
#[test]
fn cgroup_removed_when_command_not_found() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let cg = Cgroup::new("notfound");
    let r = output(run_in(root.path(), &["--pids-max", "5", "--cgroup", &cg.name, "nope"]), 10);
    assert_eq!(r.code, Some(127), "{r:#?}");
    assert_eq!(r.stderr, "tinyrun: execve(nope): executable file not found in $PATH\n");
    gone(&cg, &r);
}

/// A stderr whose reader is gone (as in `tinyrun --trace ... | head`) fails
/// tinyrun's writes but does not kill it with SIGPIPE: it still ends as the
/// command did and removes its cgroup.
#[test]
fn cgroup_removed_when_stderr_is_a_broken_pipe() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let cg = Cgroup::new("epipe");
    let mut c = run_in(root.path(), &["--trace", "--pids-max", "5", "--cgroup", &cg.name, "sh", "-c", "sleep 0.2"]);
    c.stdout(Stdio::null());
    let mut child = c.spawn().unwrap();
    drop(child.stderr.take());
    let r = common::finish(child, 10);
    assert_eq!(r.code, Some(0), "{r:#?}");
    gone(&cg, &r);
}
