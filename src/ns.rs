//! Namespaces: which ones the container gets, and the setup that belongs to
//! them once the child is inside (its hostname, its loopback interface).

use crate::report::must;
use crate::spec::Spec;
use crate::sys;
use core::ffi::CStr;

/// The clone(2) flags for the spec: the demo's UTS, PID and mount
/// namespaces, IPC so that System V IPC and POSIX message queues are the
/// container's own, and a network namespace on request.
pub fn flags(spec: &Spec) -> i32 {
    let mut flags = libc::CLONE_NEWUTS | libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWIPC;
    if spec.net {
        flags |= libc::CLONE_NEWNET;
    }
    flags
}

/// sethostname(2): only the new UTS namespace sees it.
pub fn set_hostname(name: &CStr) {
    must("sethostname(%)", &[name.to_bytes()], sys::sethostname(name.to_bytes()))
}

/// Brings up `lo`, the only interface of a new network namespace, which
/// starts down: the SIOCSIFFLAGS ioctl of netdevice(7) on any socket of the
/// namespace, as `ip link set lo up` does through netlink.
pub fn loopback_up() {
    let sock = must("socket(AF_INET, SOCK_DGRAM)", &[], sys::socket(libc::AF_INET, libc::SOCK_DGRAM));
    // struct ifreq: the name, then ifr_flags at offset 16.
    let mut ifreq = [0u8; 40];
    ifreq[..2].copy_from_slice(b"lo");
    ifreq[16..18].copy_from_slice(&(libc::IFF_UP as u16).to_ne_bytes());
    let r = sys::ioctl(sock, libc::SIOCSIFFLAGS, ifreq.as_mut_ptr().cast());
    sys::close(sock);
    must("ioctl(lo, SIOCSIFFLAGS, IFF_UP)", &[], r);
}
