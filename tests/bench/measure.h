/* measure.h -- what the load generator (bench.c) reads besides HTTP answers: the CPU time and peak
 * memory of a process from /proc, the CPU time of a PostgreSQL server with all its backends, and
 * one database's counters from pg_stat_database.
 *
 * Layer: the benchmark tool (tests/bench/), not part of the core library. Linux only: /proc is
 * read directly, so the program and PostgreSQL must run on this machine (PostgreSQL elsewhere, e.g.
 * in a container, is detected and its CPU reported as unknown).
 *
 * CPU time is counted in clock ticks (sysconf(_SC_CLK_TCK), 100 a second on Linux), so a figure
 * is exact to 10 ms; the caller measures over seconds.
 *
 * PostgreSQL's CPU time: the postmaster forks one process per session and its background workers
 * (checkpointer, WAL writer, autovacuum, ...). The sum of the postmaster's own utime+stime, its
 * cutime+cstime (the children it has reaped: sessions that ended) and the utime+stime of every
 * child still alive covers all of them. A child that ends between two readings moves from the
 * third term to the second, so the total stays right.
 *
 * Thread-safety: the proc_* functions are thread-safe; a bench_pg belongs to one thread.
 */
#ifndef BENCH_MEASURE_H
#define BENCH_MEASURE_H

#include <stdbool.h>
#include <sys/types.h>

#include "core.h"

/* The fields of /proc/PID/stat the tool uses. */
struct proc_stat {
    char state;               /* 'R', 'S', 'Z' (zombie: exited, not yet reaped), ... */
    pid_t ppid;               /* the parent's pid */
    long long utime, stime;   /* CPU time of the process itself, in clock ticks */
    long long cutime, cstime; /* CPU time of its reaped children, in clock ticks */
};

/* Parses the text of a /proc/PID/stat file (borrowed; the command name in parentheses may hold
 * spaces and parentheses). False when the text is not such a line. */
bool proc_stat_parse(const char *text, struct proc_stat *out);

/* Reads /proc/PID/stat. False when there is no such process (or it cannot be read). */
bool proc_stat_read(pid_t pid, struct proc_stat *out);

/* True while pid is a process that has not exited (a zombie counts as exited). */
bool proc_running(pid_t pid);

/* The process's own CPU time (utime + stime) in milliseconds; -1 when it cannot be read. */
double proc_cpu_ms(pid_t pid);

/* The peak resident set size (VmHWM of /proc/PID/status) in KiB; -1 when it cannot be read. */
long proc_peak_rss_kb(pid_t pid);

/* The CPU time of the process postmaster and all its children, in milliseconds (see the top of
 * this header); -1 when the postmaster cannot be read. */
double proc_tree_cpu_ms(pid_t postmaster);

/* The load average of the machine (the three figures of /proc/loadavg); false if unreadable. */
bool proc_loadavg(double out[3]);

/* ---- PostgreSQL ------------------------------------------------------------------------------ */

/* A database's counters from pg_stat_database. */
struct pg_counters {
    long long commits;   /* xact_commit */
    long long rollbacks; /* xact_rollback */
    long long sessions;  /* sessions (PostgreSQL 14 and later) */
};

typedef struct bench_pg bench_pg; /* a statistics connection: one libpq connection, one thread */

/* Connects with conninfo (borrowed; a database other than the one measured, so that the tool's
 * own queries are not counted) to read the counters of database dbname (copied). Finds the
 * postmaster: the parent of this connection's backend, when that process is on this machine.
 * Unreachable server or bad conninfo -> CORE_ERR_UNAVAILABLE; a conninfo to dbname itself ->
 * CORE_ERR_INVALID. Caller frees with bench_pg_free(). */
core_status bench_pg_open(bench_pg **out, const char *conninfo, const char *dbname, core_err *err);

/* The postmaster's pid, or 0 when PostgreSQL does not run on this machine. */
pid_t bench_pg_postmaster(const bench_pg *pg);

/* Reads the measured database's counters. No row for the database (it was never connected to)
 * gives zeros. A failed query -> CORE_ERR_IO with the server's message. */
core_status bench_pg_counters(bench_pg *pg, struct pg_counters *out, core_err *err);

/* How many sessions are connected to the measured database now (pg_stat_activity). A failed query
 * -> CORE_ERR_IO. */
core_status bench_pg_sessions_open(bench_pg *pg, long *out, core_err *err);

/* When the counters are complete: a backend adds its counts to pg_stat_database when it ends, and
 * while it lives at most once a second, and an idle one only about PG_STATS_IDLE_S seconds after
 * its first unpublished transaction (PostgreSQL 15's PGSTAT_IDLE_INTERVAL). So the counters are
 * complete once every session of the database has ended, or PG_STATS_IDLE_S seconds after the
 * last request. */
#define PG_STATS_IDLE_S 10.5

void bench_pg_free(bench_pg *pg); /* NULL is a no-op */

/* ---- time ------------------------------------------------------------------------------------ */

double bench_now_s(void);    /* CLOCK_MONOTONIC in seconds */
void bench_sleep_ms(int ms); /* sleeps ms milliseconds (signals do not cut it short) */

#endif /* BENCH_MEASURE_H */
