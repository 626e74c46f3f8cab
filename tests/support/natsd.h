/* natsd.h -- a private nats-server for tests that stop and start the message broker.
 *
 * Layer: test support (linked into the core's and every chapter's tests). A test that kills the
 * broker must not kill the lab's, which other tests and other people use: it runs its own
 * nats-server with JetStream on a free loopback port, with a file store in a fresh directory under
 * build/ (or /tmp). The server dies with the test process (PR_SET_PDEATHSIG), also when the test
 * crashes; natsd_release() stops it and removes its store.
 *
 *     struct natsd d;
 *     natsd_init(&d, "it_am");          (port + store directory; d.url = "nats://127.0.0.1:<port>")
 *     natsd_start(&d);                  (fork + exec; natsd_wait_ready() waits for the port)
 *     natsd_stop(&d, SIGKILL);          (a crash: the file store keeps what was acknowledged)
 *     natsd_start(&d);                  (the same port and store: a restarted server)
 *     natsd_release(&d);
 *
 * The binary: environment NATS_SERVER_BIN, else /usr/sbin/nats-server, else nats-server on PATH.
 * Not thread-safe: one test thread drives one struct natsd.
 */
#ifndef TESTS_NATSD_H
#define TESTS_NATSD_H

#include <stdbool.h>
#include <sys/types.h>

struct natsd {
    pid_t pid;     /* 0 when not running */
    int port;      /* the client port, on 127.0.0.1 */
    char dir[256]; /* the store directory (and nats-server.log) */
    char url[64];  /* "nats://127.0.0.1:<port>" */
};

/* A free loopback port (the kernel's pick) and a new store directory named after tag. Returns
 * 0, or -1 after printing why on stderr. */
int natsd_init(struct natsd *d, const char *tag);

/* Starts the server (JetStream on, store in d->dir, log appended to d->dir/nats-server.log).
 * Returns 0, or -1 when fork failed. Does not wait: see natsd_wait_ready(). */
int natsd_start(struct natsd *d);

/* Waits until the server accepts TCP connections on its port, at most timeout_ms; true when it
 * does. */
bool natsd_wait_ready(const struct natsd *d, int timeout_ms);

/* Sends sig (SIGTERM: a clean stop; SIGKILL: a crash) and reaps the server. No-op when it is not
 * running. */
void natsd_stop(struct natsd *d, int sig);

/* Stops the server (SIGTERM) and removes its store directory. */
void natsd_release(struct natsd *d);

#endif /* TESTS_NATSD_H */
