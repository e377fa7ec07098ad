//! tinyrun: a Linux container runtime in one tiny static binary, with no
//! libc. Everything but the entry point lives here, so that unit tests can
//! run it with std.
#![cfg_attr(not(test), no_std)]

pub mod buf;
pub mod cgroup;
pub mod cli;
pub mod clone;
pub mod exec;
pub mod file;
pub mod init;
pub mod launch;
pub mod ns;
pub mod report;
pub mod rootfs;
pub mod spec;
pub mod sys;

/// The program: parses the arguments after the program name and returns
/// the exit code.
pub fn main(args: sys::CStrs, environ: sys::CStrs) -> u8 {
    match cli::parse(args, environ) {
        Ok(cli::Command::Print(text)) => {
            let _ = sys::write(1, text.as_bytes());
            0
        }
        Ok(cli::Command::Run(spec)) => launch::run(&spec),
        Err(f) => f.0,
    }
}
