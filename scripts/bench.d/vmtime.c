/* vmtime: wall time of command starts, for the cgroup v2 start-up bench in
 * the vm-test guest (scripts/bench --vm), whose busybox has no precise timer.
 *
 *   vmtime [-w WARMUP] N IDLE_MS [NAME=VALUE...] CMD [ARG...]
 *
 * Runs CMD N times (after WARMUP untimed runs, default 0), sleeping IDLE_MS
 * milliseconds before each one, and prints each run's wall time in
 * microseconds, one per line, once all runs are done (nothing is written
 * while a run is timed). A run is clock_gettime(CLOCK_MONOTONIC) around
 * fork + execve + waitpid; CMD is a path (no PATH search) and NAME=VALUE
 * words are added to its environment, as env(1) would, without env's exec.
 * Exits 1, saying which run, if CMD does not exit 0.
 *
 * Build: musl-gcc -O2 -static -o vmtime vmtime.c (the guest has no libc).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long num(const char *s, const char *what) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0) {
        fprintf(stderr, "vmtime: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    long warmup = 0;
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "-w")) {
        warmup = num(argv[i + 1], "warmup count");
        i += 2;
    }
    if (argc - i < 3) {
        fprintf(stderr, "usage: vmtime [-w WARMUP] N IDLE_MS [NAME=VALUE...] CMD [ARG...]\n");
        return 2;
    }
    long n = num(argv[i], "run count"), idle_ms = num(argv[i + 1], "idle time");
    i += 2;
    for (; i < argc && strchr(argv[i], '=') && argv[i][0] != '/'; i++)
        putenv(argv[i]);
    if (i == argc) {
        fprintf(stderr, "vmtime: no command\n");
        return 2;
    }
    char **cmd = argv + i;
    struct timespec idle = {idle_ms / 1000, idle_ms % 1000 * 1000000L};
    long long *us = calloc(n ? n : 1, sizeof *us);
    if (!us) return 1;

    for (long r = -warmup; r < n; r++) {
        if (idle_ms) nanosleep(&idle, NULL);
        long long t0 = now_ns();
        pid_t pid = fork();
        if (pid == 0) {
            execve(cmd[0], cmd, environ);
            perror(cmd[0]);
            _exit(127);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) < 0) {
            perror("vmtime: fork/waitpid");
            return 1;
        }
        long long t1 = now_ns();
        if (!WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "vmtime: run %ld of %s: %s %d\n", r + 1, cmd[0],
                    WIFEXITED(st) ? "exit status" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            return 1;
        }
        if (r >= 0) us[r] = (t1 - t0 + 500) / 1000;
    }
    for (long r = 0; r < n; r++) printf("%lld\n", us[r]);
    return 0;
}
