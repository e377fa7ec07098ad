//! The container's file system view, set up by the child inside its new
//! mount namespace: private mounts, its own root, /dev and /proc.

use crate::report::{EXIT_RUNTIME, fail, must, note, trace};
use crate::sys::{self, Errno};
use core::ffi::CStr;
use libc::{MNT_DETACH, MS_BIND, MS_MOVE, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_REC};

/// Marks every mount private, recursively: the new mount namespace starts
/// as a copy of the host's, in the same peer groups where the host's mounts
/// are shared (systemd makes / shared), and our mounts would propagate back.
/// See mount_namespaces(7).
pub fn make_private() {
    must("mount(/, MS_REC|MS_PRIVATE)", &[], sys::mount(None, c"/", None, MS_REC | MS_PRIVATE, None))
}

/// Makes `root` the root directory: bind it onto itself (pivot_root(2)
/// needs a mount point), give it a /dev if it has none, then pivot_root,
/// or, where pivot_root cannot work, move it over / and chroot.
pub fn change_root(root: &CStr, pivot: bool) {
    let r = &[root.to_bytes()];
    must("mount(% on itself, MS_BIND|MS_REC)", r, sys::mount(Some(root), root, None, MS_BIND | MS_REC, None));
    must("chdir(%)", r, sys::chdir(root));
    // Before pivot_root: where tinyrun may not make device nodes, it binds
    // the host's, which are out of reach afterwards.
    if dev_is_empty() {
        make_dev();
    }
    if pivot {
        // pivot_root(".", "."): the old root ends up stacked on the new one,
        // where umount2 can detach it without a directory to park it in.
        match sys::pivot_root(c".", c".") {
            Ok(()) => {
                trace("pivot_root(., .)", &[], Ok(0));
                must("umount2(., MNT_DETACH), the old root", &[], sys::umount2(c".", MNT_DETACH));
                return must("chdir(/)", &[], sys::chdir(c"/"));
            }
            // The initramfs (rootfs) cannot be pivoted away from.
            Err(Errno::EINVAL) => {
                trace("pivot_root(., .)", &[], Err(Errno::EINVAL));
                note("pivot_root: not from an initramfs; MS_MOVE, chroot", &[]);
            }
            Err(e) => sys::exit(fail(EXIT_RUNTIME, "pivot_root(%)", r, Some(e)).0 as i32),
        }
    }
    // As switch_root(8) does. The old root stays underneath, reachable by a
    // process that may chroot: this is why pivot_root comes first.
    must("mount(. over /, MS_MOVE)", &[], sys::mount(Some(c"."), c"/", None, MS_MOVE, None));
    must("chroot(.)", &[], sys::chroot(c"."));
    must("chdir(/)", &[], sys::chdir(c"/"))
}

/// Whether ./dev exists and holds nothing, as in a rootfs unpacked from a
/// tarball. busybox sh cannot even run `cmd &` without /dev/null.
fn dev_is_empty() -> bool {
    let Ok(fd) = sys::open(c"dev", libc::O_RDONLY | libc::O_DIRECTORY) else {
        return false;
    };
    let mut buf = [0u8; 256];
    let r = sys::getdents64(fd, &mut buf);
    sys::close(fd);
    let n = r.map_or(0, |n| dirents(&buf[..n]));
    trace("getdents64(dev), the entries", &[], Ok(n as u64));
    n == 2
}

/// The number of entries in a getdents64(2) buffer (`.` and `..` included).
pub fn dirents(mut buf: &[u8]) -> usize {
    let mut n = 0;
    // struct linux_dirent64: d_ino u64, d_off i64, d_reclen u16, ...
    while buf.len() >= 19 {
        let reclen = u16::from_ne_bytes([buf[16], buf[17]]) as usize;
        if reclen == 0 || reclen > buf.len() {
            break;
        }
        n += 1;
        buf = &buf[reclen..];
    }
    n
}

/// The devices a container needs, with their numbers (devices.txt of the
/// kernel's documentation): 1,3 null, 1,5 zero, 1,7 full, 1,8 random,
/// 1,9 urandom, 5,0 tty.
const DEVICES: [(&CStr, u32); 6] = [
    (c"/dev/null", 1 << 8 | 3),
    (c"/dev/zero", 1 << 8 | 5),
    (c"/dev/full", 1 << 8 | 7),
    (c"/dev/random", 1 << 8 | 8),
    (c"/dev/urandom", 1 << 8 | 9),
    (c"/dev/tty", 5 << 8),
];

const LINKS: [(&CStr, &CStr); 5] = [
    (c"pts/ptmx", c"dev/ptmx"),
    (c"/proc/self/fd", c"dev/fd"),
    (c"/proc/self/fd/0", c"dev/stdin"),
    (c"/proc/self/fd/1", c"dev/stdout"),
    (c"/proc/self/fd/2", c"dev/stderr"),
];

/// A minimal /dev under the working directory (the new root), like the one
/// runc and bubblewrap make: a tmpfs with the usual devices, a private
/// devpts instance, /dev/shm and the fd links.
fn make_dev() {
    let tmpfs = Some(c"tmpfs");
    let r = sys::mount(tmpfs, c"dev", tmpfs, MS_NOSUID | MS_NOEXEC, Some(c"mode=755,size=64m"));
    must("mount(tmpfs on dev, mode=755,size=64m)", &[], r);
    // Modes as written, for the nodes and /dev/shm.
    let umask = sys::umask(0);
    for (host, dev) in DEVICES {
        // The same path without its leading slash: under the new root.
        let ours = sys::tail(host, 1);
        let path = &[ours.to_bytes(), host.to_bytes()];
        // Our own node where we may (CAP_MKNOD), as runc does; each bind
        // mount costs 25 µs here, and its removal when the container ends.
        let r = sys::mknod(ours, libc::S_IFCHR | 0o666, dev);
        if r == Err(Errno::EPERM) {
            // Else the host's, bound over an empty file, as bubblewrap does.
            must("mknod(%, S_IFREG)", path, sys::mknod(ours, libc::S_IFREG | 0o666, 0));
            must(
                "mount(% on %, MS_BIND)",
                &[host.to_bytes(), ours.to_bytes()],
                sys::mount(Some(host), ours, None, MS_BIND, None),
            );
        } else {
            must("mknod(%, S_IFCHR)", path, r);
        }
    }
    must("mkdir(dev/pts)", &[], sys::mkdir(c"dev/pts", 0o755));
    // newinstance: the container's ptys are its own, not the host's.
    let devpts = Some(c"devpts");
    let r = sys::mount(devpts, c"dev/pts", devpts, MS_NOSUID | MS_NOEXEC, Some(c"newinstance,ptmxmode=0666,mode=0620"));
    must("mount(devpts on dev/pts, newinstance)", &[], r);
    // Shared memory for all, sticky like /tmp, in /dev's tmpfs.
    must("mkdir(dev/shm, 01777)", &[], sys::mkdir(c"dev/shm", 0o1777));
    sys::umask(umask);
    for (target, link) in LINKS {
        must("symlink(% -> %)", &[link.to_bytes(), target.to_bytes()], sys::symlink(target, link));
    }
}

/// A fresh proc for the new pid namespace, as the demo mounts it.
pub fn mount_proc() {
    let proc = Some(c"proc");
    let r = sys::mount(proc, c"/proc", proc, MS_NOSUID | MS_NODEV | MS_NOEXEC, None);
    must("mount(proc on /proc, MS_NOSUID|MS_NODEV|MS_NOEXEC)", &[], r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirent(name: &str) -> Vec<u8> {
        let reclen = (19 + name.len() + 1).next_multiple_of(8);
        let mut d = vec![0u8; reclen];
        d[16..18].copy_from_slice(&(reclen as u16).to_ne_bytes());
        d[19..19 + name.len()].copy_from_slice(name.as_bytes());
        d
    }

    #[test]
    fn counts_directory_entries() {
        let empty = [dirent("."), dirent("..")].concat();
        assert_eq!(dirents(&empty), 2);
        assert_eq!(dirents(&[empty, dirent("null")].concat()), 3);
        assert_eq!(dirents(&[]), 0);
    }
}
