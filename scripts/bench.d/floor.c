/* floor: the physical floor of a container start, for scripts/bench.
 *
 *   floor [--net] [--pids-max N] ROOTFS CMD [ARG...]
 *
 * Makes only the system calls a start needs: clone into new pid, mount,
 * uts, ipc (and net) namespaces on an mmapped stack; in the child make /
 * recursively private, set the hostname, bind ROOTFS onto itself,
 * pivot_root(".", ".") and detach the old root (on an initramfs root, where
 * pivot_root fails, MS_MOVE and chroot instead), mount /proc, execvp CMD.
 * With --pids-max it does the cgroup work tinyrun does: mkdir a cgroup under
 * the caller's pids cgroup, write pids.max, move the child (held on a pipe)
 * into cgroup.procs, rmdir after. Exits with CMD's status (128+N on signal).
 * No error handling beyond "report and fail": it is a yardstick, not a tool.
 *
 * Build: musl-gcc -O2 -static -o floor floor.c (scripts/bench falls back to
 * gcc, i.e. glibc, without musl-tools). Why musl: glibc's static start-up
 * runs dozens of cpuid instructions (CPU feature and cache probing), and in a
 * VM each one traps to the hypervisor: on the bench VM that alone is ~0.5 ms,
 * a third of the glibc floor's start, time a no-libc runtime never spends.
 * musl's start-up makes 2 system calls and no cpuid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK (64 * 1024)
static char *rootfs, **cmd;
static int gate[2] = {-1, -1};  /* child waits for EOF until it is in the cgroup */

static void die(const char *what) { perror(what); _exit(127); }

/* No O_CLOEXEC here or below: the child is already cloned, and musl would
 * pay an extra fcntl for it. */
static void put(const char *dir, const char *file, const char *val) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, val, strlen(val)) < 0) die(path);
    close(fd);
}

/* The caller's pids cgroup: the v1 "pids" hierarchy if there is one (hybrid
 * hosts like the bench VM), else the unified one ("0::"), at
 * /sys/fs/cgroup<path> (the root "0::/" gives /sys/fs/cgroup/floor-PID, as in
 * the vm-test guest; on v2 the pids controller must be on in the parent's
 * cgroup.subtree_control, which the guest's /init does). Plain read(), not
 * stdio: one open, read, close. Appends "/floor-PID". */
static void cgroup_dir(char *out, size_t n, pid_t pid) {
    static char buf[8192];
    const char *v1 = NULL, *v2 = NULL;
    int fd = open("/proc/self/cgroup", O_RDONLY), len = 0, r;
    if (fd < 0) die("/proc/self/cgroup");
    while ((r = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += r;
    close(fd);
    buf[len] = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;
        if (!path) continue;
        *path++ = 0;
        if (path[1] == 0) path++;  /* "/" -> "": no "//" below */
        if (!strcmp(ctl + 1, "pids")) v1 = path;
        else if (!ctl[1]) v2 = path;
    }
    if (v1) snprintf(out, n, "/sys/fs/cgroup/pids%s/floor-%d", v1, (int)pid);
    else snprintf(out, n, "/sys/fs/cgroup%s/floor-%d", v2 ? v2 : "", (int)pid);
}

static int child(void *arg) {
    (void)arg;
    char c;
    if (gate[0] >= 0) {
        close(gate[1]);
        while (read(gate[0], &c, 1) > 0) {}
        close(gate[0]);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) die("make / private");
    if (sethostname("floor", 5)) die("sethostname");
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL)) die("bind rootfs");
    if (chdir(rootfs)) die("chdir rootfs");
    if (syscall(SYS_pivot_root, ".", ".") == 0) {
        if (umount2(".", MNT_DETACH)) die("detach old root");
    } else {
        /* The initramfs cannot be pivoted away from (EINVAL; the vm-test
         * guest of scripts/bench --vm runs there): switch_root's way, as
         * tinyrun falls back to. */
        if (errno != EINVAL) die("pivot_root");
        if (mount(".", "/", NULL, MS_MOVE, NULL)) die("move rootfs over /");
        if (chroot(".")) die("chroot");
        if (chdir("/")) die("chdir /");
    }
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) die("mount /proc");
    execvp(cmd[0], cmd);
    die(cmd[0]);
    return 127;
}

int main(int argc, char **argv) {
    int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
    const char *pids_max = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--net")) flags |= CLONE_NEWNET;
        else if (!strcmp(argv[i], "--pids-max") && i + 1 < argc) pids_max = argv[++i];
        else break;
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: floor [--net] [--pids-max N] ROOTFS CMD [ARG...]\n");
        return 2;
    }
    rootfs = argv[i];
    cmd = argv + i + 1;
    if (pids_max && pipe(gate)) die("pipe");

    char *stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) die("mmap");
    pid_t pid = clone(child, stack + STACK, flags, NULL);
    if (pid < 0) die("clone");

    char cg[4096], num[16];
    if (pids_max) {
        close(gate[0]);
        cgroup_dir(cg, sizeof cg, pid);
        if (mkdir(cg, 0755)) die(cg);
        put(cg, "pids.max", pids_max);
        snprintf(num, sizeof num, "%d", (int)pid);
        put(cg, "cgroup.procs", num);
        close(gate[1]);  /* EOF: the child may go on */
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) die("waitpid");
    if (pids_max && rmdir(cg)) perror(cg);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
