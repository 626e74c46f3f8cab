/* measure.c -- see measure.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "measure.h"

/* Reads a small /proc file into buf (NUL-terminated); false if it cannot be read. */
static bool read_small_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, size - 1, f);
    bool ok = !ferror(f);
    fclose(f);
    buf[n] = '\0';
    return ok && n > 0;
}

/* Parses the next space-separated integer of *p into *v and moves *p past it. */
static bool next_ll(const char **p, long long *v)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(*p, &end, 10);
    if (errno != 0 || end == *p)
        return false;
    *v = x;
    *p = end;
    return true;
}

bool proc_stat_parse(const char *text, struct proc_stat *out)
{
    /* "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
     * stime cutime cstime ...": comm may hold anything, so fields are counted from its last ')' */
    const char *p = strrchr(text, ')');
    long long v;
    if (!p || p[1] != ' ' || !isalpha((unsigned char)p[2]))
        return false;
    memset(out, 0, sizeof *out);
    out->state = p[2];
    p += 3;
    for (int field = 4; field <= 17; field++) {
        if (!next_ll(&p, &v))
            return false;
        if (field == 4)
            out->ppid = (pid_t)v;
        else if (field == 14)
            out->utime = v;
        else if (field == 15)
            out->stime = v;
        else if (field == 16)
            out->cutime = v;
        else if (field == 17)
            out->cstime = v;
    }
    return true;
}

bool proc_stat_read(pid_t pid, struct proc_stat *out)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return false;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    return read_small_file(path, buf, sizeof buf) && proc_stat_parse(buf, out);
}

bool proc_running(pid_t pid)
{
    struct proc_stat st;
    return proc_stat_read(pid, &st) && st.state != 'Z' && st.state != 'X';
}

static double ticks_to_ms(long long ticks)
{
    static long hz;
    if (hz <= 0)
        hz = sysconf(_SC_CLK_TCK);
    return (double)ticks * 1000.0 / (double)(hz > 0 ? hz : 100);
}

double proc_cpu_ms(pid_t pid)
{
    struct proc_stat st;
    if (!proc_stat_read(pid, &st))
        return -1;
    return ticks_to_ms(st.utime + st.stime);
}

long proc_peak_rss_kb(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (pid <= 0 || !read_small_file(path, buf, sizeof buf))
        return -1;
    const char *line = strstr(buf, "\nVmHWM:");
    if (!line)
        return -1;
    char *end = NULL;
    long kb = strtol(line + 7, &end, 10);
    return end != line + 7 && kb >= 0 ? kb : -1;
}

double proc_tree_cpu_ms(pid_t postmaster)
{
    struct proc_stat pm;
    if (!proc_stat_read(postmaster, &pm))
        return -1;
    long long ticks = pm.utime + pm.stime + pm.cutime + pm.cstime;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        struct proc_stat child;
        pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
        if (pid != postmaster && proc_stat_read(pid, &child) && child.ppid == postmaster)
            ticks += child.utime + child.stime;
    }
    closedir(d);
    return ticks_to_ms(ticks);
}

bool proc_loadavg(double out[3])
{
    char buf[256];
    return read_small_file("/proc/loadavg", buf, sizeof buf) &&
           sscanf(buf, "%lf %lf %lf", &out[0], &out[1], &out[2]) == 3;
}

/* ---- PostgreSQL ------------------------------------------------------------------------------ */

struct bench_pg {
    PGconn *conn;
    char *dbname;
    pid_t postmaster;
};

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The server's message of a failure, on one line. */
static void pq_message(core_err *err, core_status st, PGconn *conn, const char *what)
{
    char msg[200];
    core_strlcpy(msg, conn ? PQerrorMessage(conn) : "out of memory", sizeof msg);
    for (char *c = msg; *c; c++)
        if (*c == '\n')
            *c = (c[1] ? ' ' : '\0');
    core_err_set(err, st, "%s: %s", what, msg);
}

/* The pid of the parent of this connection's backend, when the backend runs on this machine: a
 * process of that pid whose parent is a process named postgres (or postmaster). */
static pid_t find_postmaster(PGconn *conn)
{
    PGresult *res = PQexec(conn, "select pg_backend_pid()");
    pid_t backend = 0, parent = 0;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        backend = (pid_t)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    struct proc_stat st;
    if (backend > 0 && proc_stat_read(backend, &st))
        parent = st.ppid;
    char path[64], comm[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)parent);
    if (parent <= 1 || !read_small_file(path, comm, sizeof comm))
        return 0;
    return strncmp(comm, "postgres", 8) == 0 || strncmp(comm, "postmaster", 10) == 0 ? parent : 0;
}

core_status bench_pg_open(bench_pg **out, const char *conninfo, const char *dbname, core_err *err)
{
    *out = NULL;
    bench_pg *pg = core_calloc(1, sizeof *pg);
    if (!pg || !(pg->dbname = core_strdup(dbname))) {
        core_free(pg);
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    }
    pg->conn = PQconnectdb(conninfo);
    if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
        pq_message(err, CORE_ERR_UNAVAILABLE, pg->conn, "connecting to PostgreSQL for statistics");
        bench_pg_free(pg);
        return CORE_ERR_UNAVAILABLE;
    }
    PQsetNoticeProcessor(pg->conn, ignore_notice, NULL);
    const char *db = PQdb(pg->conn);
    if (db && strcmp(db, dbname) == 0) {
        core_err_set(err, CORE_ERR_INVALID,
                     "the statistics connection goes to %s, the database it measures: give it "
                     "another one (--pg-conn)",
                     dbname);
        bench_pg_free(pg);
        return CORE_ERR_INVALID;
    }
    pg->postmaster = find_postmaster(pg->conn);
    *out = pg;
    return CORE_OK;
}

pid_t bench_pg_postmaster(const bench_pg *pg)
{
    return pg ? pg->postmaster : 0;
}

core_status bench_pg_counters(bench_pg *pg, struct pg_counters *out, core_err *err)
{
    static const char sql[] = "select xact_commit, xact_rollback, sessions from pg_stat_database"
                              " where datname = $1";
    const char *params[1] = {pg->dbname};
    memset(out, 0, sizeof *out);
    PGresult *res = PQexecParams(pg->conn, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        pq_message(err, CORE_ERR_IO, pg->conn, "reading pg_stat_database");
        return CORE_ERR_IO;
    }
    if (PQntuples(res) == 1) {
        out->commits = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        out->rollbacks = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        out->sessions = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    }
    PQclear(res);
    return CORE_OK;
}

core_status bench_pg_sessions_open(bench_pg *pg, long *out, core_err *err)
{
    static const char sql[] = "select count(*) from pg_stat_activity where datname = $1";
    const char *params[1] = {pg->dbname};
    PGresult *res = PQexecParams(pg->conn, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        PQclear(res);
        pq_message(err, CORE_ERR_IO, pg->conn, "reading pg_stat_activity");
        return CORE_ERR_IO;
    }
    *out = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return CORE_OK;
}

void bench_pg_free(bench_pg *pg)
{
    if (!pg)
        return;
    if (pg->conn)
        PQfinish(pg->conn);
    core_free(pg->dbname);
    core_free(pg);
}

/* ---- time ------------------------------------------------------------------------------------ */

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
