//! scripts/bench measures tinyrun against a C floor (scripts/bench.d/floor.c)
//! that makes only the system calls a container start needs. The comparison
//! means something only if both run the same command in the same rootfs to
//! the same end: this checks that they do.

mod common;

use common::{TempDir, output, rootfs, run_in};
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn floor_and_tinyrun_run_the_same_container() {
    if !common::root() {
        return;
    }
    let build = TempDir::new("floor");
    let floor = build.path().join("floor");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench.d/floor.c");
    // The bench builds it with musl-gcc where it can; any libc does here.
    let cc = if Command::new("musl-gcc").arg("--version").output().is_ok() { "musl-gcc" } else { "gcc" };
    let built = Command::new(cc).args(["-O2", "-static", "-o"]).arg(&floor).arg(&source).status().unwrap();
    assert!(built.success(), "{cc} could not build {}", source.display());

    let root = rootfs();
    for (cmd, code) in [
        (&["/bin/true"][..], 0),
        (&["/bin/false"], 1),
        (&["sh", "-c", "exit 3"], 3),
        (&["sh", "-c", "ls /; cat /proc/mounts | grep -c ^proc"], 0),
    ] {
        let mut c = Command::new(&floor);
        c.arg(root.path()).args(cmd).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let theirs = output(c, 10);
        let ours = output(run_in(root.path(), cmd), 10);
        assert_eq!(ours.code, Some(code), "tinyrun {cmd:?}: {ours:#?}");
        assert_eq!(theirs.code, Some(code), "floor {cmd:?}: {theirs:#?}");
        assert_eq!(ours.stdout, theirs.stdout, "{cmd:?}");
    }
}
