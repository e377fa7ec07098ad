//! `tinyrun run` on the real binary: the container's namespaces and root,
//! how its command is found, its environment, its exit status, and the
//! binary's own shape (static, no dynamic section, 24 KiB at most).

mod common;

use common::{Background, Run, TempDir, install, mounts, output, rootfs, run_in, tinyrun, wait_for_descendant};
use std::fs;
use std::path::Path;
use std::process::Command;

fn host_hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname").unwrap()
}

/// Puts the host's hostname back when dropped, should a broken tinyrun
/// have changed it (the test fails on that all the same).
struct KeepHostname(String);

impl KeepHostname {
    fn new() -> KeepHostname {
        KeepHostname(host_hostname())
    }
}

impl Drop for KeepHostname {
    fn drop(&mut self) {
        if host_hostname() != self.0 {
            let _ = fs::write("/proc/sys/kernel/hostname", self.0.trim_end());
        }
    }
}

/// Starts `c` (a container whose command is `sleep 30`) and waits until
/// the sleep runs; returns the running tinyrun and the sleep's host pid.
fn sleeping(c: Command) -> (Background, u32) {
    let bg = Background::spawn(c);
    let sleep = wait_for_descendant(bg.pid(), "sleep", 5).expect("the container's sleep never started");
    (bg, sleep)
}

/// Ends a sleeping container with SIGTERM to tinyrun.
fn stop(bg: Background) -> Run {
    bg.signal(libc::SIGTERM);
    bg.finish(5)
}

/// Asserts `r` failed with `code` and exactly one line on stderr, starting
/// `tinyrun: ` and holding `part`; nothing on stdout.
fn one_line_error(r: &Run, code: i32, part: &str) {
    assert_eq!(r.code, Some(code), "{r:#?}");
    assert!(r.stderr.starts_with("tinyrun: ") && r.stderr.ends_with('\n'), "{r:#?}");
    assert_eq!(r.stderr.lines().count(), 1, "not one line: {r:#?}");
    assert!(r.stderr.contains(part), "stderr lacks {part:?}: {r:#?}");
    assert_eq!(r.stdout, "", "{r:#?}");
}

// ---- hostname (UTS namespace) ----

/// The container's hostname defaults to tiny-container.
#[test]
fn hostname_defaults_to_tiny_container() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let r = output(run_in(root.path(), &["hostname"]), 10);
    assert_eq!(r.ok().stdout, "tiny-container\n");
}

/// `--hostname NAME` sets it, up to 64 bytes (the kernel's limit).
#[test]
fn hostname_flag_sets_it() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let r = output(run_in(root.path(), &["--hostname", "x", "hostname"]), 10);
    assert_eq!(r.ok().stdout, "x\n");
    let long = "h".repeat(64);
    let r = output(run_in(root.path(), &["--hostname", &long, "hostname"]), 10);
    assert_eq!(r.ok().stdout, format!("{long}\n"));
}

/// The host's hostname is untouched while a container runs and after.
#[test]
fn host_hostname_unchanged_during_and_after() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let keep = KeepHostname::new();
    let before = keep.0.clone();
    let (bg, _) = sleeping(run_in(root.path(), &["--hostname", "changed-by-test", "sleep", "30"]));
    assert_eq!(host_hostname(), before, "during");
    stop(bg);
    assert_eq!(host_hostname(), before, "after");
}

// ---- namespaces ----

fn ns(pid: &str, name: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{name}")).unwrap().to_string_lossy().into_owned()
}

/// The command runs in new UTS, PID, mount and IPC namespaces, and in the
/// host's network namespace unless --net is given.
#[test]
fn command_gets_new_uts_pid_mount_ipc_namespaces() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let (bg, sleep) = sleeping(run_in(root.path(), &["sleep", "30"]));
    let sleep = sleep.to_string();
    for name in ["uts", "pid", "mnt", "ipc"] {
        assert_ne!(ns(&sleep, name), ns("self", name), "{name} namespace shared with the host");
    }
    assert_eq!(ns(&sleep, "net"), ns("self", "net"), "a new net namespace without --net");
    stop(bg);
}

/// `--net` gives a network namespace of its own with only loopback in it.
#[test]
fn net_flag_gives_loopback_only_namespace() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let (bg, sleep) = sleeping(run_in(root.path(), &["--net", "sleep", "30"]));
    assert_ne!(ns(&sleep.to_string(), "net"), ns("self", "net"));
    stop(bg);

    let r = output(run_in(root.path(), &["--net", "cat", "/proc/net/dev"]), 10);
    let ifaces: Vec<&str> = r.ok().stdout.lines().skip(2).map(|l| l.split(':').next().unwrap().trim()).collect();
    assert_eq!(ifaces, ["lo"], "{r:#?}");
}

// ---- pid namespace and /proc ----

/// `ps` inside sees only the container: tinyrun's init as pid 1 and the
/// command (ps itself) as pid 2.
#[test]
fn ps_sees_only_the_container() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let r = output(run_in(root.path(), &["ps", "-o", "pid,comm"]), 10);
    let rows: Vec<Vec<&str>> = r.ok().stdout.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows, [["1", "tinyrun"], ["2", "ps"]], "{r:#?}");
}

/// A fresh /proc is mounted inside: it shows the container's pids (init
/// is /proc/1, the command is pid 2 with parent 1).
#[test]
fn proc_is_the_containers_own() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let r = output(run_in(root.path(), &["cat", "/proc/1/comm", "/proc/self/status"]), 10);
    let out = &r.ok().stdout;
    assert!(out.starts_with("tinyrun\n"), "{r:#?}");
    assert!(out.lines().any(|l| l == "Pid:\t2"), "{r:#?}");
    assert!(out.lines().any(|l| l == "PPid:\t1"), "{r:#?}");
}

/// The host's mount table gains nothing while a container runs, nor after;
/// the container's own table has its /proc.
#[test]
fn host_mounts_unchanged_during_and_after() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let before = mounts("self");
    let (bg, sleep) = sleeping(run_in(root.path(), &["sleep", "30"]));
    assert_eq!(mounts("self"), before, "during");
    assert!(mounts(&sleep.to_string()).iter().any(|m| m == "/proc"), "no /proc inside");
    stop(bg);
    assert_eq!(mounts("self"), before, "after");
}

// ---- the root ----

/// A file beside the rootfs (in its parent directory) is out of reach,
/// by its host path and by climbing out of / with `..`.
#[test]
fn files_beside_the_rootfs_are_out_of_reach() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let marker = TempDir::new("marker");
    assert_eq!(marker.path().parent(), root.path().parent());
    let name = marker.path().file_name().unwrap().to_str().unwrap();
    let host_path = marker.path().to_str().unwrap();
    let climb = format!("/../../../{name}");
    let script = r#"for p; do if test -e "$p"; then echo "visible $p"; else echo "hidden $p"; fi; done"#;
    let r = output(run_in(root.path(), &["sh", "-c", script, "sh", host_path, &climb]), 10);
    assert_eq!(r.ok().stdout, format!("hidden {host_path}\nhidden {climb}\n"));
}

/// Compiles tests/helpers/escape.c statically into `dir`; None (and why)
/// without gcc.
fn build_escape(dir: &Path) -> Option<std::path::PathBuf> {
    if Command::new("gcc").arg("--version").output().is_err() {
        eprintln!("skipped: gcc is not installed (it builds tests/helpers/escape.c)");
        return None;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/escape.c");
    let bin = dir.join("escape");
    let out = Command::new("gcc").args(["-static", "-O", "-o"]).arg(&bin).arg(&src).output().unwrap();
    assert!(out.status.success(), "gcc: {}", String::from_utf8_lossy(&out.stderr));
    Some(bin)
}

/// The classic chroot escape (chroot into a subdirectory, chdir("..") 64
/// times, chroot(".")) gets out of a plain chroot, but not out of the
/// container: it still sees the rootfs, not the host's marker.
#[test]
fn chroot_escape_stays_inside() {
    if !common::root() {
        return;
    }
    let tmp = TempDir::new("escape");
    let Some(escape) = build_escape(tmp.path()) else { return };
    let root = rootfs();
    install(root.path(), "/escape", &fs::read(&escape).unwrap());
    let marker = TempDir::new("marker");
    let marker = marker.path().to_str().unwrap();

    // The helper works: out of a plain chroot, it reaches the host's root.
    let out = Command::new("chroot").arg(root.path()).args(["/escape", marker]).output().unwrap();
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && seen.contains(&format!("present {marker}")), "control run: {out:?}");

    let r = output(run_in(root.path(), &["/escape", "/bin/busybox", marker]), 10);
    let seen = &r.ok().stdout;
    assert!(seen.lines().any(|l| l == "entry /escape"), "not the rootfs: {r:#?}");
    assert!(seen.lines().any(|l| l == "present /bin/busybox"), "{r:#?}");
    assert!(seen.lines().any(|l| l == format!("absent {marker}")), "escaped: {r:#?}");
}

/// `--no-pivot` (MS_MOVE and chroot) still runs the command in the rootfs
/// with the container's hostname.
#[test]
fn no_pivot_runs() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let marker = TempDir::new("marker");
    let script = r#"hostname; if test -e /bin/busybox; then echo rootfs; fi; if test -e "$1"; then echo host; fi"#;
    let r = output(run_in(root.path(), &["--no-pivot", "sh", "-c", script, "sh", marker.path().to_str().unwrap()]), 10);
    assert_eq!(r.ok().stdout, "tiny-container\nrootfs\n");
}

/// `-w DIR` is the command's working directory; / by default.
#[test]
fn cwd_flag_sets_working_directory() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    assert_eq!(output(run_in(root.path(), &["pwd"]), 10).ok().stdout, "/\n");
    assert_eq!(output(run_in(root.path(), &["-w", "/tmp", "pwd"]), 10).ok().stdout, "/tmp\n");
}

// ---- /dev ----

/// An empty rootfs /dev gets the usual devices, devpts, shm and links.
#[test]
fn dev_has_the_usual_devices() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let script = "for d in null zero full random urandom tty; do test -c /dev/$d && echo char $d; done
        test -d /dev/pts && echo dir pts; test -d /dev/shm && echo dir shm
        for l in fd stdin stdout stderr ptmx; do test -L /dev/$l && echo link $l; done
        echo gone >/dev/null; head -c 5 /dev/zero | wc -c";
    let r = output(run_in(root.path(), &["sh", "-c", script]), 10);
    let want = "char null\nchar zero\nchar full\nchar random\nchar urandom\nchar tty\ndir pts\ndir shm\n\
                link fd\nlink stdin\nlink stdout\nlink stderr\nlink ptmx\n5\n";
    assert_eq!(r.ok().stdout, want);
}

/// The devices are nodes of the container's own where tinyrun may make
/// them, and the shared memory directory is for all (sticky, 1777).
#[test]
fn dev_nodes_are_made_and_shm_is_open_to_all() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let script =
        "stat -c '%a %t,%T %n' /dev/null /dev/tty /dev/shm; grep -c ' /dev/null ' /proc/self/mountinfo || true";
    let r = output(run_in(root.path(), &["sh", "-c", script]), 10);
    assert_eq!(r.ok().stdout, "666 1,3 /dev/null\n666 5,0 /dev/tty\n1777 0,0 /dev/shm\n0\n");
}

/// Without CAP_MKNOD (as in a user namespace), the devices are the host's,
/// bound over empty files, as bubblewrap does.
#[test]
fn without_mknod_the_hosts_devices_are_bound() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let mut c = Command::new("setpriv");
    c.args(["--bounding-set", "-mknod", "--", common::TINYRUN, "run", "--rootfs"]).arg(root.path());
    c.args(["sh", "-c", "stat -c '%a %t,%T' /dev/null; grep -c ' /dev/null ' /proc/self/mountinfo; echo x >/dev/null"]);
    c.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let r = output(c, 10);
    assert_eq!(r.ok().stdout, "666 1,3\n1\n");
}

/// A rootfs whose /dev has something in it keeps it as it is.
#[test]
fn nonempty_dev_is_left_alone() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    fs::write(root.path().join("dev/mine"), "").unwrap();
    let r = output(run_in(root.path(), &["ls", "/dev"]), 10);
    assert_eq!(r.ok().stdout, "mine\n");
}

/// A background job and `wait` work in the container's shell.
#[test]
fn background_job_and_wait() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let r = output(run_in(root.path(), &["sh", "-c", "sleep 0 & wait $! && echo waited"]), 10);
    assert_eq!(r.ok().stdout, "waited\n");
}

// ---- finding the command ----

/// `ls` is looked up in the rootfs after the root change: busybox's
/// /bin/ls, as `which` agrees (the host's would be /usr/bin/ls).
#[test]
fn ls_is_the_rootfs_bin_ls() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let r = output(run_in(root.path(), &["--trace", "ls", "/"]), 10);
    let last = r.ok().stderr.lines().rfind(|l| l.contains("execve("));
    assert_eq!(last, Some("tinyrun[2]: execve(/bin/ls)"), "{r:#?}");
    assert!(r.stdout.lines().any(|l| l == "bin"), "{r:#?}");

    let r = output(run_in(root.path(), &["which", "ls"]), 10);
    assert_eq!(r.ok().stdout, "/bin/ls\n");
}

/// `-e PATH=...` is the PATH the command is looked up in.
#[test]
fn env_path_is_used_for_lookup() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    fs::create_dir(root.path().join("custom")).unwrap();
    install(root.path(), "/custom/hello", b"#!/bin/sh\necho \"hello from $0\"\n");
    let r = output(run_in(root.path(), &["-e", "PATH=/custom", "hello"]), 10);
    assert_eq!(r.ok().stdout, "hello from /custom/hello\n");

    let r = output(run_in(root.path(), &["hello"]), 10);
    one_line_error(&r, 127, "execve(hello): executable file not found in $PATH");
}

// ---- exit status ----

/// A command that succeeds: 0.
#[test]
fn exit_status_0() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let r = output(run_in(root.path(), &["true"]), 10);
    assert_eq!((r.code, r.stderr.as_str()), (Some(0), ""), "{r:#?}");
}

/// The command's own exit status comes back: 7.
#[test]
fn exit_status_is_the_commands() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let r = output(run_in(root.path(), &["sh", "-c", "exit 7"]), 10);
    assert_eq!((r.code, r.stderr.as_str()), (Some(7), ""), "{r:#?}");
}

/// A file that is there but not executable: 126, with execve's error.
#[test]
fn exit_126_not_executable() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    fs::write(root.path().join("x"), "#!/bin/sh\n").unwrap();
    let r = output(run_in(root.path(), &["/x"]), 10);
    one_line_error(&r, 126, "");
    assert_eq!(r.stderr, "tinyrun: execve(/x): Permission denied\n");
}

/// A command that is nowhere in PATH: 127, with the message.
#[test]
fn exit_127_not_found() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let r = output(run_in(root.path(), &["nope"]), 10);
    one_line_error(&r, 127, "");
    assert_eq!(r.stderr, "tinyrun: execve(nope): executable file not found in $PATH\n");
}

/// A command killed by SIGKILL: 128 + 9.
#[test]
fn exit_137_killed_by_sigkill() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let r = output(run_in(root.path(), &["sh", "-c", "kill -9 $$"]), 10);
    assert_eq!(r.code, Some(137), "{r:#?}");
}

/// SIGTERM to tinyrun reaches the command, which dies of it: 128 + 15.
#[test]
fn sigterm_is_forwarded_143() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let (bg, _) = sleeping(run_in(root.path(), &["sleep", "30"]));
    let r = stop(bg);
    assert_eq!(r.code, Some(143), "{r:#?}");
}

/// A rootfs that does not exist: 125, one line naming it.
#[test]
fn exit_125_missing_rootfs() {
    if !common::root() {
        return;
    }
    let missing = std::env::temp_dir().join(common::unique("missing"));
    let r = output(run_in(&missing, &["true"]), 10);
    one_line_error(&r, 125, missing.to_str().unwrap());
}

/// An unknown option: 125, one line naming it.
#[test]
fn exit_125_unknown_option() {
    let r = output(tinyrun(["run", "--bogus-flag", "true"]), 10);
    one_line_error(&r, 125, "--bogus-flag");
}

/// A hostname of 65 bytes: 125, one line (64 is fine, see above).
#[test]
fn exit_125_hostname_too_long() {
    let long = "h".repeat(65);
    let r = output(tinyrun(["run", "--hostname", &long, "true"]), 10);
    one_line_error(&r, 125, "--hostname");
}

// ---- without --rootfs ----

/// Without --rootfs the host's files are visible: the kernel's release and
/// a file this test made.
#[test]
fn no_rootfs_sees_host_files() {
    if !common::root() {
        return;
    }
    let tmp = TempDir::new("hostfile");
    let file = tmp.path().join("f");
    fs::write(&file, "made by the test\n").unwrap();
    let r = output(tinyrun(["run", "cat", "/proc/sys/kernel/osrelease", file.to_str().unwrap()]), 10);
    let osrelease = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(r.ok().stdout, format!("{osrelease}made by the test\n"));
}

/// Without --rootfs the hostname and pids are still the container's:
/// the shell is pid 2 under tinyrun's init.
#[test]
fn no_rootfs_keeps_hostname_and_pid_isolation() {
    if !common::root() {
        return;
    }
    let keep = KeepHostname::new();
    let r = output(tinyrun(["run", "sh", "-c", "hostname; echo $$"]), 10);
    assert_eq!(host_hostname(), keep.0);
    assert_eq!(r.ok().stdout, "tiny-container\n2\n");
}

/// With --no-init the command is pid 1 itself.
#[test]
fn no_init_makes_command_pid_1() {
    if !common::root() {
        return;
    }
    let r = output(tinyrun(["run", "--no-init", "sh", "-c", "echo $$"]), 10);
    assert_eq!(r.ok().stdout, "1\n");
}

/// Without --rootfs the container's /proc is mounted in its own mount
/// namespace only: the host's mount table is the same during and after.
#[test]
fn no_rootfs_keeps_mount_isolation() {
    if !common::root() {
        return;
    }
    let before = mounts("self");
    let (bg, sleep) = sleeping(tinyrun(["run", "sleep", "30"]));
    assert_eq!(mounts("self"), before, "during");
    assert_ne!(ns(&sleep.to_string(), "mnt"), ns("self", "mnt"));
    stop(bg);
    assert_eq!(mounts("self"), before, "after");
}

// ---- environment ----

const PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn sorted(text: &str) -> Vec<&str> {
    let mut v: Vec<&str> = text.lines().collect();
    v.sort();
    v
}

/// The command's environment is PATH, HOME=/root, HOSTNAME and the
/// caller's TERM, and nothing else of the caller's.
#[test]
fn default_environment() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let mut c = run_in(root.path(), &["--hostname", "envtest", "env"]);
    c.env("TERM", "tinyrun-test-term").env("TINYRUN_TEST_PRIVATE", "leak");
    let r = output(c, 10);
    let mut want = vec![PATH, "HOME=/root", "HOSTNAME=envtest", "TERM=tinyrun-test-term"];
    want.sort();
    assert_eq!(sorted(&r.ok().stdout), want);
}

/// Without TERM in the caller's environment there is none inside.
#[test]
fn no_term_when_caller_has_none() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let mut c = run_in(root.path(), &["env"]);
    c.env_remove("TERM");
    let r = output(c, 10);
    let mut want = vec![PATH, "HOME=/root", "HOSTNAME=tiny-container"];
    want.sort();
    assert_eq!(sorted(&r.ok().stdout), want);
}

/// `-e K=V` sets or overrides a variable; `-e K` passes the caller's on.
#[test]
fn env_flag_sets_overrides_and_passes() {
    if !common::root() {
        return;
    }
    let root = rootfs();
    let mut c = run_in(root.path(), &["-e", "HOME=/elsewhere", "-e", "NEW=a=b", "--env", "TINYRUN_TEST_PASSED", "env"]);
    c.env("TINYRUN_TEST_PASSED", "from the caller").env_remove("TERM");
    let r = output(c, 10);
    let mut want =
        vec![PATH, "HOME=/elsewhere", "HOSTNAME=tiny-container", "NEW=a=b", "TINYRUN_TEST_PASSED=from the caller"];
    want.sort();
    assert_eq!(sorted(&r.ok().stdout), want);
}

// ---- the binary ----

/// The release binary is at most 24 KiB, stripped (no symbol table) and
/// static: no PT_INTERP, no PT_DYNAMIC.
#[test]
fn release_binary_is_small_static_and_stripped() {
    if cfg!(debug_assertions) {
        eprintln!("skipped: the size budget applies to release builds (cargo test --release)");
        return;
    }
    let elf = fs::read(common::TINYRUN).unwrap();
    assert!(elf.len() <= 24576, "{} is {} bytes, over 24 KiB", common::TINYRUN, elf.len());
    assert_eq!(&elf[..5], b"\x7fELF\x02", "not a 64-bit ELF");
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;

    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    assert!(phnum > 0);
    let types: Vec<u32> = (0..phnum).map(|i| u32_at(phoff + i * phentsize)).collect();
    assert!(types.contains(&1), "no PT_LOAD: {types:?}");
    assert!(!types.contains(&3), "PT_INTERP: dynamically linked");
    assert!(!types.contains(&2), "PT_DYNAMIC: has a dynamic section");

    let (shoff, shentsize, shnum) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c));
    let sections: Vec<u32> = (0..shnum).map(|i| u32_at(shoff + i * shentsize + 4)).collect();
    assert!(!sections.contains(&2), "SHT_SYMTAB: not stripped");
    assert!(!sections.contains(&6), "SHT_DYNAMIC: has a dynamic section");
}
