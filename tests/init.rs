//! tinyrun's pid 1 and terminal: the init that reaps and forwards signals,
//! --no-init, signals sent to tinyrun itself, the container's death with
//! tinyrun, an interactive shell in a real terminal (driven through tmux),
//! plain stdio without a terminal, and --net.

mod common;

use common::{Background, TINYRUN, TempDir, comm, descendants, root, rootfs, run_in, signal, unique, wait_until};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

// ---------------------------------------------------------------------------
// Helpers: processes seen from the host.

/// The fields of /proc/PID/stat after the command name: [0] is the state,
/// [1] the ppid, [2] the process group, [5] the terminal's foreground group,
/// [19] the start time.
fn stat(pid: u32) -> Option<Vec<String>> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(s[s.rfind(')')? + 2..].split(' ').map(str::to_string).collect())
}

/// A process as seen at one moment: its pid and start time, so that a
/// recycled pid is not taken for it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Proc {
    pid: u32,
    start: u64,
}

impl Proc {
    fn of(pid: u32) -> Option<Proc> {
        Some(Proc { pid, start: stat(pid)?.get(19)?.parse().ok()? })
    }

    /// Its state letter, if this very process still has a /proc entry.
    fn state(&self) -> Option<char> {
        let f = stat(self.pid)?;
        (f.get(19)?.parse::<u64>().ok()? == self.start).then(|| f[0].chars().next().unwrap())
    }

    /// Whether it has ended: no entry, or a zombie or dead entry (an orphan
    /// of a dead pid namespace waits for the host's init to reap it).
    fn ended(&self) -> bool {
        !matches!(self.state(), Some(s) if s != 'Z' && s != 'X')
    }

    /// Whether it has been reaped: it has no /proc entry any more.
    fn reaped(&self) -> bool {
        self.state().is_none()
    }
}

/// The processes below `pid` now.
fn tree(pid: u32) -> Vec<Proc> {
    descendants(pid).into_iter().filter_map(Proc::of).collect()
}

/// Waits (hang guard: 5 s) until a process named `name` runs below `pid`,
/// and returns everything below `pid` at that moment.
fn tree_with(pid: u32, name: &str) -> Vec<Proc> {
    let mut found = vec![];
    let ok = wait_until(5, || {
        found = tree(pid);
        found.iter().any(|p| comm(p.pid).unwrap_or_default() == name && p.state().is_some_and(|s| s != 'Z'))
    });
    assert!(ok, "no {name} below tinyrun (pid {pid}) after 5 s: {found:?}");
    found
}

/// Asserts that every process of `procs` has ended within 2 s.
fn assert_all_end(procs: &[Proc]) {
    let ok = wait_until(2, || procs.iter().all(Proc::ended));
    let left: Vec<_> =
        procs.iter().filter(|p| !p.ended()).map(|p| (p.pid, comm(p.pid).unwrap_or_default(), p.state())).collect();
    assert!(ok, "still running 2 s later: {left:?}");
}

/// The lines a pipe gives, as they come (a thread reads it).
fn lines(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (hang guard: 5 s for each line) for the line `want`.
fn expect_line(rx: &mpsc::Receiver<String>, want: &str) {
    let mut seen = vec![];
    loop {
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(l) if l == want => return,
            Ok(l) => seen.push(l),
            Err(e) => panic!("no line {want:?} ({e}); got {seen:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// pid 1

/// By default the container's pid 1 is tinyrun's init, and the command is
/// pid 2.
#[test]
fn init_is_pid_1_and_the_command_pid_2() {
    if !root() {
        return;
    }
    let r = rootfs();
    let run = common::output(run_in(r.path(), &["sh", "-c", "cat /proc/1/comm; echo $$"]), 10);
    run.ok();
    assert_eq!(run.stdout, "tinyrun\n2\n");
}

/// The init is a clone of tinyrun on the host: its argv and environment
/// are the host's command line and environment. Once the command runs, the
/// container reads them blank in /proc/1/cmdline and /proc/1/environ. (The
/// init blanks them as soon as the command's execve lets it run again: a
/// command that reads them at once may race it, hence the pause.)
#[test]
fn init_hides_the_hosts_command_line_and_environment() {
    if !root() {
        return;
    }
    let r = rootfs();
    let mut c = run_in(r.path(), &["sh", "-c", "sleep 0.2; cat /proc/1/cmdline /proc/1/environ"]);
    c.env("TINYRUN_TEST_HOST_SECRET", "swordfish");
    let run = common::output(c, 10);
    run.ok();
    let rootfs = r.path().to_str().unwrap();
    assert!(!run.stdout.contains(rootfs) && !run.stdout.contains("swordfish"), "{run:#?}");
}

/// With --no-init the command itself is pid 1.
#[test]
fn no_init_runs_the_command_as_pid_1() {
    if !root() {
        return;
    }
    let r = rootfs();
    let run = common::output(run_in(r.path(), &["--no-init", "sh", "-c", "cat /proc/1/comm; echo $$"]), 10);
    run.ok();
    assert_eq!(run.stdout, "sh\n1\n");
}

/// The command's orphans, re-parented to init, are reaped while the command
/// still runs: no zombie is left below tinyrun, and none remains after it.
#[test]
fn init_reaps_orphaned_zombies() {
    if !root() {
        return;
    }
    let r = rootfs();
    // Each subshell forks a sleep and exits: the sleeps are orphans, whose
    // parent becomes pid 1. `sleep 2` (pid 2) outlives them.
    let g = Background::spawn(run_in(r.path(), &["sh", "-c", "(sleep 0.3 &); (sleep 0.3 &); exec sleep 2"]));
    let tinyrun = g.pid();
    let mut init = None;
    let mut kids = vec![];
    let ok = wait_until(5, || {
        init = common::children(tinyrun).first().copied();
        let Some(init) = init else { return false };
        kids = common::children(init).into_iter().filter_map(Proc::of).collect();
        kids.len() == 3
    });
    assert!(ok, "init {init:?} never had the command and 2 orphans: {kids:?}");
    let init = init.unwrap();
    // The command is `sleep 2`, the orphans `sleep 0.3`.
    let is_command = |p: &Proc| fs::read(format!("/proc/{}/cmdline", p.pid)).is_ok_and(|c| c == b"sleep\x002\x00");
    let command = *kids.iter().find(|p| is_command(p)).expect("no sleep 2 below init");
    let orphans: Vec<Proc> = kids.into_iter().filter(|p| *p != command).collect();
    assert_eq!(comm(init).unwrap_or_default(), "tinyrun");

    assert!(wait_until(5, || orphans.iter().all(Proc::reaped)), "orphans not reaped: {orphans:?}");
    assert_eq!(command.state(), Some('S'), "the command should still run");
    // Sampled a few times: no zombie below tinyrun while the command runs.
    for _ in 0..10 {
        let zombies: Vec<u32> = descendants(tinyrun).into_iter().filter(|&p| common::state(p) == Some('Z')).collect();
        assert!(zombies.is_empty(), "zombies below tinyrun: {zombies:?}");
        std::thread::sleep(Duration::from_millis(30));
    }
    let all = tree(tinyrun);
    g.finish(10).ok();
    assert!(all.iter().all(Proc::ended), "left after tinyrun exited: {all:?}");
}

/// The documented trade-off: with --no-init, a pid 1 that never waits (here
/// `sleep`) leaves its orphans zombies.
#[test]
fn no_init_leaves_orphans_of_a_pid_1_that_does_not_wait_as_zombies() {
    if !root() {
        return;
    }
    let r = rootfs();
    let g =
        Background::spawn(run_in(r.path(), &["--no-init", "sh", "-c", "(sleep 0.1 &); (sleep 0.1 &); exec sleep 1"]));
    let tinyrun = g.pid();
    let mut zombies = vec![];
    let ok = wait_until(5, || {
        zombies = descendants(tinyrun).into_iter().filter(|&p| common::state(p) == Some('Z')).collect();
        zombies.len() == 2
    });
    assert!(ok, "expected 2 zombies below the sleep at pid 1, got {zombies:?}");
    g.finish(10).ok();
}

/// When the command exits, init exits with its status, and whatever else
/// ran in the container is killed with the pid namespace.
#[test]
fn the_rest_of_the_container_dies_with_the_command() {
    if !root() {
        return;
    }
    let r = rootfs();
    let mut c = run_in(r.path(), &["sh", "-c", "sleep 100 & read x; exit 7"]);
    c.stdin(Stdio::piped());
    let mut g = Background::spawn(c);
    let procs = tree_with(g.pid(), "sleep");
    g.child().stdin.take().unwrap().write_all(b"go\n").unwrap();
    let run = g.finish(10);
    assert_eq!(run.code, Some(7), "{run:#?}");
    assert_all_end(&procs);
}

// ---------------------------------------------------------------------------
// Signals sent to tinyrun

/// SIGTERM to tinyrun reaches `sleep` through init: it dies of it and
/// tinyrun exits 128+15.
#[test]
fn sigterm_to_tinyrun_ends_the_command_with_143() {
    if !root() {
        return;
    }
    let r = rootfs();
    let g = Background::spawn(run_in(r.path(), &["sleep", "100"]));
    let procs = tree_with(g.pid(), "sleep");
    signal(g.pid(), libc::SIGTERM);
    let run = g.finish(10);
    assert_eq!(run.code, Some(143), "{run:#?}");
    assert_all_end(&procs);
}

/// A command that handles SIGTERM (exit 3) gets it and tinyrun exits with
/// its status; its background sleep dies with the container.
fn term_is_handled_by_the_command(extra: &[&str]) {
    let r = rootfs();
    let mut args = extra.to_vec();
    args.extend(["sh", "-c", "trap 'exit 3' TERM; sleep 100 & wait"]);
    let g = Background::spawn(run_in(r.path(), &args));
    // The trap is set before the sleep starts.
    let procs = tree_with(g.pid(), "sleep");
    signal(g.pid(), libc::SIGTERM);
    let run = g.finish(10);
    assert_eq!(run.code, Some(3), "{run:#?}");
    assert_all_end(&procs);
}

/// Under init, SIGTERM to tinyrun runs the command's TERM trap (exit 3).
#[test]
fn sigterm_reaches_the_commands_handler() {
    if !root() {
        return;
    }
    term_is_handled_by_the_command(&[]);
}

/// With --no-init, SIGTERM to tinyrun runs pid 1's TERM trap (exit 3).
#[test]
fn sigterm_reaches_the_handler_of_a_no_init_pid_1() {
    if !root() {
        return;
    }
    term_is_handled_by_the_command(&["--no-init"]);
}

/// Each signal tinyrun forwards reaches the command's handler for it, one
/// after the other.
fn every_forwarded_signal_arrives(extra: &[&str]) {
    let r = rootfs();
    let script = "for s in HUP INT QUIT USR1 USR2 WINCH CONT; do trap \"echo got $s\" $s; done; \
                  trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done";
    let mut args = extra.to_vec();
    args.extend(["sh", "-c", script]);
    let mut g = Background::spawn(run_in(r.path(), &args));
    let out = lines(g.child().stdout.take().unwrap());
    expect_line(&out, "ready");
    for (sig, name) in [
        (libc::SIGHUP, "HUP"),
        (libc::SIGINT, "INT"),
        (libc::SIGQUIT, "QUIT"),
        (libc::SIGUSR1, "USR1"),
        (libc::SIGUSR2, "USR2"),
        (libc::SIGWINCH, "WINCH"),
        (libc::SIGCONT, "CONT"),
        (libc::SIGTERM, "TERM"),
    ] {
        signal(g.pid(), sig);
        expect_line(&out, &format!("got {name}"));
    }
    let run = g.finish(10);
    assert_eq!(run.code, Some(3), "{run:#?}");
}

/// Under init: HUP INT QUIT USR1 USR2 WINCH CONT TERM all reach the command.
#[test]
fn forwarded_signals_reach_the_command() {
    if !root() {
        return;
    }
    every_forwarded_signal_arrives(&[]);
}

/// With --no-init: HUP INT QUIT USR1 USR2 WINCH CONT TERM all reach pid 1.
#[test]
fn forwarded_signals_reach_a_no_init_pid_1() {
    if !root() {
        return;
    }
    every_forwarded_signal_arrives(&["--no-init"]);
}

/// With --no-init a plain `sleep` is pid 1: the SIGTERM tinyrun forwards
/// does nothing to it (the kernel drops signals a pid 1 has no handler
/// for); SIGKILL of tinyrun still ends it.
#[test]
fn no_init_pid_1_ignores_forwarded_sigterm_but_dies_with_tinyrun() {
    if !root() {
        return;
    }
    let r = rootfs();
    let mut g = Background::spawn(run_in(r.path(), &["--trace", "--no-init", "sleep", "100"]));
    let mut stderr = String::new();
    let err = lines(g.child().stderr.take().unwrap());
    let procs = tree_with(g.pid(), "sleep");
    assert_eq!(procs.len(), 1, "{procs:?}");
    let sleep = procs[0];
    signal(g.pid(), libc::SIGTERM);
    // The trace shows when tinyrun has passed it on.
    let forwarded = format!("tinyrun: kill({}, SIGTERM) = 0", sleep.pid);
    let ok = wait_until(5, || {
        while let Ok(l) = err.try_recv() {
            stderr.push_str(&l);
            stderr.push('\n');
        }
        stderr.contains(&forwarded)
    });
    assert!(ok, "no {forwarded:?} in the trace: {stderr}");
    // Not a timing: a grace for a (wrongly) delivered TERM to take effect.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sleep.state(), Some('S'), "pid 1 should have ignored SIGTERM");
    assert!(g.child().try_wait().unwrap().is_none(), "tinyrun should still wait");
    signal(g.pid(), libc::SIGKILL);
    let run = g.finish(10);
    assert_eq!(run.status.code(), None, "{run:#?}");
    assert_all_end(&procs);
}

/// `timeout 2 tinyrun ... sleep 100`: timeout's SIGTERM ends the container;
/// timeout says it had to (124) and nothing is left running.
#[test]
fn timeout_ends_the_container() {
    if !root() {
        return;
    }
    let r = rootfs();
    let mut c = Command::new("timeout");
    c.args(["-s", "TERM", "2", TINYRUN, "run", "--rootfs"]).arg(r.path()).args(["sleep", "100"]);
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let g = Background::spawn(c);
    let procs = tree_with(g.pid(), "sleep");
    let run = g.finish(10);
    assert_eq!(run.code, Some(124), "{run:#?}");
    assert_all_end(&procs);
}

/// If tinyrun is SIGKILLed, its container (here a pid 1 that ignores
/// SIGTERM) dies too: every process it had ends.
fn dies_with_tinyrun(extra: &[&str]) {
    let r = rootfs();
    let mut args = extra.to_vec();
    args.extend(["sh", "-c", "trap '' TERM; sleep 100"]);
    let g = Background::spawn(run_in(r.path(), &args));
    let procs = tree_with(g.pid(), "sleep");
    signal(g.pid(), libc::SIGKILL);
    let run = g.finish(10);
    assert_eq!(run.status.code(), None, "{run:#?}");
    assert_all_end(&procs);
}

/// PR_SET_PDEATHSIG: SIGKILL of tinyrun kills a --no-init pid 1 that
/// ignores SIGTERM.
#[test]
fn no_init_container_dies_with_tinyrun() {
    if !root() {
        return;
    }
    dies_with_tinyrun(&["--no-init"]);
}

/// PR_SET_PDEATHSIG: SIGKILL of tinyrun kills init, and with it a command
/// that ignores SIGTERM.
#[test]
fn init_container_dies_with_tinyrun() {
    if !root() {
        return;
    }
    dies_with_tinyrun(&[]);
}

// ---------------------------------------------------------------------------
// Without a terminal

/// Without a terminal stdin and stdout are plain pipes: bytes a terminal
/// would act on (^C, ^D, ^Z, \r) go through `cat` unchanged, EOF ends it,
/// and stderr passes through too.
#[test]
fn stdio_passes_through_without_a_terminal() {
    if !root() {
        return;
    }
    let r = rootfs();
    let mut c = run_in(r.path(), &["sh", "-c", "cat; echo err >&2"]);
    c.stdin(Stdio::piped());
    let mut g = Background::spawn(c);
    // 32 KiB: fits in the pipes, so nothing waits on the other side.
    let data: Vec<u8> = (0..32 * 1024).map(|i| (i * 7 % 256) as u8).collect();
    let mut stdin = g.child().stdin.take().unwrap();
    stdin.write_all(&data).unwrap();
    drop(stdin);
    let mut stdout = g.child().stdout.take().unwrap();
    let got = std::thread::spawn(move || {
        let mut v = vec![];
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let run = g.finish(10);
    run.ok();
    let got = got.join().unwrap();
    assert!(got == data, "cat gave {} bytes, not the {} sent (or not the same)", got.len(), data.len());
    assert_eq!(run.stderr, "err\n");
}

// ---------------------------------------------------------------------------
// In a real terminal: tmux

/// A private tmux server (its socket in a temporary directory) running
/// `tinyrun run --rootfs ROOT sh` in a 80x24 pane, between records of the
/// terminal's state; killed with everything in it when dropped.
struct Tmux {
    sock: String,
    dir: TempDir,
    pane: u32,
}

impl Tmux {
    fn start(root: &Path) -> Tmux {
        let dir = TempDir::new("tmux");
        let d = dir.path().display();
        // The shell running tinyrun records the terminal's modes and its
        // foreground group (cat's stat: pgrp and tpgid) before and after.
        let script = format!(
            "stty -g > {d}/stty.before\n\
             cat /proc/self/stat > {d}/stat.before\n\
             '{TINYRUN}' run --rootfs '{root}' sh\n\
             code=$?\n\
             stty -g > {d}/stty.after\n\
             cat /proc/self/stat > {d}/stat.after\n\
             echo EXIT=$code > {d}/exit.tmp && mv {d}/exit.tmp {d}/exit\n",
            root = root.display()
        );
        fs::write(dir.path().join("script"), script).unwrap();
        let mut t = Tmux { sock: unique("tmux"), dir, pane: 0 };
        let script = t.dir.path().join("script");
        t.tmux(&["-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", &format!("sh {}", script.display())]);
        t.pane = t.tmux(&["display-message", "-p", "#{pane_pid}"]).trim().parse().unwrap();
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .env("TMUX_TMPDIR", self.dir.path())
            .env_remove("TMUX")
            .arg("-L")
            .arg(&self.sock)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` and Enter.
    fn line(&self, text: &str) {
        self.tmux(&["send-keys", "-l", text]);
        self.tmux(&["send-keys", "Enter"]);
    }

    /// Presses a key (C-c, C-z).
    fn key(&self, key: &str) {
        self.tmux(&["send-keys", key]);
    }

    /// The whole pane, history included.
    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-S", "-"])
    }

    fn prompts(&self) -> usize {
        self.screen().lines().filter(|l| l.starts_with("/ #")).count()
    }

    /// Waits (hang guard: 5 s) for the screen to satisfy `f`.
    fn wait(&self, what: &str, f: impl Fn(&str) -> bool) {
        let ok = wait_until(5, || f(&self.screen()));
        assert!(ok, "no {what} on the screen after 5 s:\n{}", self.screen());
    }

    /// Waits for prompt number `n` (counting from 1).
    fn wait_prompt(&self, n: usize) {
        let ok = wait_until(5, || self.prompts() >= n);
        assert!(ok, "no prompt #{n} after 5 s:\n{}", self.screen());
    }

    /// Types `text` and waits for the output line `want` after it.
    fn run(&self, text: &str, want: &str) {
        self.line(text);
        self.wait(&format!("{want:?} after {text:?}"), |s| {
            let mut l = s.lines().skip_while(|l| !(l.starts_with("/ #") && l.contains(text)));
            l.any(|l| l.trim_end() == want)
        });
    }

    /// Waits (hang guard: 5 s) for tinyrun to have exited, and returns
    /// the EXIT=N line the shell wrote.
    fn exit(&self) -> String {
        let file = self.dir.path().join("exit");
        let ok = wait_until(5, || file.exists());
        assert!(ok, "tinyrun still running 5 s later:\n{}", self.screen());
        fs::read_to_string(file).unwrap().trim_end().to_string()
    }

    fn file(&self, name: &str) -> String {
        fs::read_to_string(self.dir.path().join(name)).unwrap()
    }

    /// The process `sleep 100` in the pane, once it runs.
    fn sleep(&self) -> Proc {
        let mut found = None;
        let ok = wait_until(5, || {
            found = tree(self.pane).into_iter().find(|p| {
                comm(p.pid).unwrap_or_default() == "sleep"
                    && fs::read(format!("/proc/{}/cmdline", p.pid)).is_ok_and(|c| c == b"sleep\x00100\x00")
            });
            found.is_some()
        });
        assert!(ok, "no sleep 100 in the pane:\n{}", self.screen());
        found.unwrap()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let procs = if self.pane > 0 { tree(self.pane) } else { vec![] };
        let _ = Command::new("tmux")
            .env("TMUX_TMPDIR", self.dir.path())
            .arg("-L")
            .arg(&self.sock)
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
        // The hangup should end them; if not, tinyrun (whose container dies
        // with it) is killed.
        if !wait_until(2, || procs.iter().all(Proc::ended)) {
            for p in &procs {
                if comm(p.pid).unwrap_or_default() == "tinyrun" && p.state().is_some() {
                    unsafe { libc::kill(p.pid as i32, libc::SIGKILL) };
                }
            }
        }
    }
}

/// The pgrp and tpgid fields of a saved /proc/self/stat.
fn groups(stat: &str) -> (String, String) {
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    (f[2].to_string(), f[5].to_string())
}

/// In a terminal, `tinyrun run --rootfs R sh` is an interactive shell in
/// the container: a prompt, commands run inside, and `exit 3` ends tinyrun
/// with status 3, leaving the terminal as it was.
#[test]
fn interactive_shell_in_a_terminal() {
    if !root() {
        return;
    }
    let r = rootfs();
    let t = Tmux::start(r.path());
    t.wait_prompt(1);
    t.run("hostname", "tiny-container");
    t.line("exit 3");
    assert_eq!(t.exit(), "EXIT=3", "{}", t.screen());
    assert_eq!(t.file("stty.before"), t.file("stty.after"), "terminal modes changed");
    let (pgrp, fg) = groups(&t.file("stat.after"));
    assert_eq!(pgrp, fg, "the shell that ran tinyrun is not the terminal's foreground job any more");
}

/// Ctrl-C interrupts the shell's foreground job in the container, not the
/// container: the shell prompts again and goes on.
#[test]
fn ctrl_c_interrupts_the_foreground_job_not_the_container() {
    if !root() {
        return;
    }
    let r = rootfs();
    let t = Tmux::start(r.path());
    t.wait_prompt(1);
    t.line("sleep 100");
    let sleep = t.sleep();
    let n = t.prompts();
    t.key("C-c");
    assert!(wait_until(5, || sleep.ended()), "C-c did not end sleep:\n{}", t.screen());
    t.wait_prompt(n + 1);
    t.run("echo alive", "alive");
    t.line("exit");
    assert_eq!(t.exit(), "EXIT=0", "{}", t.screen());
}

/// The shell in the container has job control: a foreground job is its own
/// process group holding the terminal; C-z stops it, `fg` resumes it.
#[test]
fn container_shell_has_job_control() {
    if !root() {
        return;
    }
    let r = rootfs();
    let t = Tmux::start(r.path());
    t.wait_prompt(1);
    t.line("sleep 100");
    let sleep = t.sleep();
    let f = stat(sleep.pid).unwrap();
    assert_eq!(f[2], sleep.pid.to_string(), "sleep is not its own process group");
    assert_eq!(f[5], sleep.pid.to_string(), "sleep's group is not the terminal's foreground group");
    let n = t.prompts();
    t.key("C-z");
    // Stopped: T, or t under a tracer (the syscall audit runs the tests
    // under strace -f).
    let stopped = || matches!(sleep.state(), Some('T' | 't'));
    assert!(wait_until(5, stopped), "C-z did not stop sleep:\n{}", t.screen());
    t.wait_prompt(n + 1);
    t.wait("Stopped", |s| s.contains("Stopped"));
    t.line("fg");
    assert!(wait_until(5, || sleep.state() == Some('S')), "fg did not resume sleep:\n{}", t.screen());
    t.key("C-c");
    assert!(wait_until(5, || sleep.ended()), "C-c did not end sleep:\n{}", t.screen());
    t.wait_prompt(n + 2);
    t.line("exit 3");
    assert_eq!(t.exit(), "EXIT=3", "{}", t.screen());
}

/// A shell killed with the terminal in odd modes (-echo -icanon) and in
/// the foreground: tinyrun gives the terminal back as it found it.
#[test]
fn terminal_is_restored_after_the_shell_is_killed() {
    if !root() {
        return;
    }
    let r = rootfs();
    let t = Tmux::start(r.path());
    t.wait_prompt(1);
    t.line("stty -echo -icanon; kill -9 $$");
    assert_eq!(t.exit(), "EXIT=137", "{}", t.screen());
    let before = groups(&t.file("stat.before"));
    assert_eq!(before.0, before.1, "the pane's shell was not in the foreground to begin with");
    assert_eq!(t.file("stty.before"), t.file("stty.after"), "terminal modes not restored");
    let (pgrp, fg) = groups(&t.file("stat.after"));
    assert_eq!(pgrp, fg, "the terminal's foreground group was not given back");
}

// ---------------------------------------------------------------------------
// --net

/// The interfaces /proc/net/dev lists, sorted.
fn interfaces(dev: &str) -> Vec<String> {
    let mut v: Vec<String> =
        dev.lines().skip(2).filter_map(|l| l.split_once(':')).map(|(n, _)| n.trim().to_string()).collect();
    v.sort();
    v
}

/// Whether a /proc/net/tcp or tcp6 text has a listener on `port`.
fn listens(tcp: &str, port: u16) -> bool {
    let port = format!("{port:04X}");
    tcp.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 3 && f[1].rsplit(':').next() == Some(&port) && f[3] == "0A"
    })
}

fn host_listens(port: u16) -> bool {
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| fs::read_to_string(f).is_ok_and(|t| listens(&t, port)))
}

/// The host's network namespace, as `net:[INODE]`.
fn host_netns() -> String {
    fs::read_link("/proc/self/ns/net").unwrap().display().to_string()
}

/// --net: a new network namespace whose only interface is lo, and lo is up.
#[test]
fn net_has_only_loopback_up() {
    if !root() {
        return;
    }
    let r = rootfs();
    let run = common::output(
        run_in(
            r.path(),
            &["--net", "sh", "-c", "readlink /proc/self/ns/net; cat /proc/net/dev; echo ---; ip link show lo"],
        ),
        10,
    );
    run.ok();
    let (ns, rest) = run.stdout.split_once('\n').unwrap();
    assert_ne!(ns, host_netns(), "--net: still the host's network namespace");
    let (dev, link) = rest.split_once("---\n").unwrap();
    assert_eq!(interfaces(dev), ["lo"], "{dev}");
    let flags = link.split_once('<').and_then(|(_, f)| f.split_once('>')).map(|(f, _)| f).unwrap_or("");
    assert!(flags.split(',').any(|f| f == "UP"), "lo is not up: {link}");
}

/// --net: a TCP listener in the container is reachable there on 127.0.0.1
/// and does not exist on the host.
#[test]
fn net_listener_is_reachable_inside_and_invisible_outside() {
    if !root() {
        return;
    }
    let r = rootfs();
    // A port the host does not listen on.
    let mut port = 20000 + (std::process::id() % 20000) as u16;
    while host_listens(port) {
        port += 1;
    }
    let hex = format!("{port:04X}");
    // busybox nc listens on every address (its stdin must stay open: at EOF
    // it may quit before the data comes); the container waits for its
    // listener, says so, and connects once the host has looked.
    let script = format!(
        "sleep 100 | nc -l -p {port} > /tmp/got & \
         until grep -q ':{hex} [0-9A-F:]* 0A' /proc/net/tcp /proc/net/tcp6; do sleep 0.02; done; \
         echo listening; read go; echo ping | nc 127.0.0.1 {port}; \
         until [ -s /tmp/got ]; do sleep 0.02; done; echo got $(cat /tmp/got)"
    );
    let mut c = run_in(r.path(), &["--net", "sh", "-c", &script]);
    c.stdin(Stdio::piped());
    let mut g = Background::spawn(c);
    let out = lines(g.child().stdout.take().unwrap());
    expect_line(&out, "listening");
    assert!(!host_listens(port), "the container's listener on port {port} shows on the host");
    g.child().stdin.take().unwrap().write_all(b"go\n").unwrap();
    expect_line(&out, "got ping");
    g.finish(10).ok();
}

/// Without --net the container shares the host's network: it sees the
/// host's interfaces.
#[test]
fn without_net_the_host_interfaces_are_visible() {
    if !root() {
        return;
    }
    let r = rootfs();
    let run = common::output(run_in(r.path(), &["sh", "-c", "readlink /proc/self/ns/net; cat /proc/net/dev"]), 10);
    run.ok();
    let (ns, dev) = run.stdout.split_once('\n').unwrap();
    assert_eq!(ns, host_netns());
    let host = interfaces(&fs::read_to_string("/proc/net/dev").unwrap());
    assert!(host.len() > 1, "the host has only {host:?}: nothing to compare");
    assert_eq!(interfaces(dev), host);
}
