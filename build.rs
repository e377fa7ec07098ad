// A static executable with no C runtime: our own _start, no libc, no
// dynamic section. These arguments go to the binary alone; the library's
// unit tests link against std and glibc as usual.
use std::{env, fs, path::PathBuf};

fn main() {
    // The libc crate (types and constants only, here) asks the linker for
    // -lc -lm -lrt -lpthread, which would bring glibc's shared objects and
    // a dynamic section with them. Empty archives, searched first, answer
    // those requests with nothing.
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for lib in ["c", "m", "rt", "pthread"] {
        fs::write(out.join(format!("lib{lib}.a")), b"!<arch>\n").unwrap();
    }
    println!("cargo:rustc-link-arg-bins=-L{}", out.display());
    let args = [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-Wl,--no-pie",
        // Nothing the kernel needs: no build id, no RELRO page, and code
        // sharing segments with data rather than page-aligned apart.
        "-Wl,--build-id=none",
        "-Wl,-z,norelro",
        "-Wl,-z,noseparate-code",
        "-Wl,-T,build/discard.ld",
    ];
    for arg in args {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
