/* natsd.c -- see natsd.h. */
#include "natsd.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int natsd_init(struct natsd *d, const char *tag)
{
    memset(d, 0, sizeof *d);
    if ((d->port = free_port()) < 0) {
        fprintf(stderr, "natsd: no free loopback port: %s\n", strerror(errno));
        return -1;
    }
    snprintf(d->url, sizeof d->url, "nats://127.0.0.1:%d", d->port);
    struct stat st;
    const char *base = stat("build", &st) == 0 && S_ISDIR(st.st_mode) ? "build" : "/tmp";
    snprintf(d->dir, sizeof d->dir, "%s/%s.natsd.XXXXXX", base, tag);
    if (!mkdtemp(d->dir)) {
        fprintf(stderr, "natsd: cannot make %s: %s\n", d->dir, strerror(errno));
        d->dir[0] = '\0';
        return -1;
    }
    return 0;
}

int natsd_start(struct natsd *d)
{
    char port[16], log[300];
    snprintf(port, sizeof port, "%d", d->port);
    snprintf(log, sizeof log, "%s/nats-server.log", d->dir);
    const char *bin = getenv("NATS_SERVER_BIN");
    if (!bin || !*bin)
        bin = access("/usr/sbin/nats-server", X_OK) == 0 ? "/usr/sbin/nats-server" : "nats-server";
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp(bin, bin, "-a", "127.0.0.1", "-p", port, "-js", "-sd", d->dir, (char *)NULL);
        _exit(127);
    }
    d->pid = pid;
    return 0;
}

bool natsd_wait_ready(const struct natsd *d, int timeout_ms)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return false;
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)d->port);
        int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
        close(fd);
        if (rc == 0)
            return true;
        nanosleep(&pause, NULL);
    }
    return false;
}

void natsd_stop(struct natsd *d, int sig)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, sig);
    waitpid(d->pid, NULL, 0);
    d->pid = 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void natsd_release(struct natsd *d)
{
    natsd_stop(d, SIGTERM);
    if (d->dir[0])
        nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    d->dir[0] = '\0';
}
