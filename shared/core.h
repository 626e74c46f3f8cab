/* core.h -- status codes, error detail and allocation for the whole workspace.
 *
 * Layer: the bottom of the core library; every other part and every module uses it.
 *
 * Error model (one for the whole project, see docs/architecture.md):
 *   - a fallible function returns a core_status (CORE_OK = 0);
 *   - the detail goes into a caller-provided core_err, filled ONLY on failure, so calls chain;
 *   - a programmer bug is an assert; process exit happens only in main();
 *   - a message may hold internal detail (a database's text and SQLSTATE, a server address): the
 *     part that found it then also sets a public message in the API's own words with
 *     core_err_public(). The edges (gateway.h, rpc.h's server) answer clients with
 *     core_err_client_msg() and write the internal message to the log under the request id
 *     (web.h); inside the process msg stays the whole truth.
 * core_status_http() and core_status_code() are the ONE place where statuses become HTTP statuses
 * and API error codes; core_refusal_http() and core_refusal_code() are the same for the few
 * refusals of the HTTP layer that no status describes (a wrong method, a body that is not JSON).
 *
 * Allocation: every allocation of the project goes through core_malloc() and friends so tests can
 * count live allocations (leak checks) and make the Nth allocation fail (failure injection).
 * Memory that grows as it fills goes through core_array_grow() (arrays) and struct core_buf
 * (strings and byte buffers).
 *
 * Thread-safety: everything here is thread-safe, except that one array or core_buf must not be
 * changed by two threads at once. The failure-injection knob is global and meant for
 * single-threaded unit tests.
 *
 * Include order: system headers first, then project headers (core.h pulls in banned.h, which
 * turns calls of unsafe libc functions into compile errors).
 */
#ifndef CORE_H
#define CORE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum core_status {
    CORE_OK = 0,
    CORE_ERR_INVALID,     /* bad input or a broken domain rule (HTTP 400) */
    CORE_ERR_NOT_FOUND,   /* no such entity or route (HTTP 404) */
    CORE_ERR_CONFLICT,    /* someone else changed it first / already exists (HTTP 409) */
    CORE_ERR_TOO_LARGE,   /* input over a size limit (HTTP 413) */
    CORE_ERR_UNAVAILABLE, /* a server we need is unreachable or timed out (HTTP 503) */
    CORE_ERR_IO,          /* an I/O or database failure (HTTP 500) */
    CORE_ERR_NOMEM,       /* allocation failed (HTTP 500) */
    CORE_ERR_INTERNAL,    /* anything else that is our fault (HTTP 500) */
} core_status;

#define CORE_STATUS_COUNT (CORE_ERR_INTERNAL + 1)

/* Static text for a status ("invalid argument", "not found", ...). Never NULL. */
const char *core_status_text(core_status st);

/* Static symbolic name ("CORE_ERR_NOT_FOUND"); used on the RPC wire. Never NULL. */
const char *core_status_name(core_status st);

/* Parses a name made by core_status_name(); unknown names give CORE_ERR_INTERNAL. */
core_status core_status_from_name(const char *name);

/* The HTTP status for a core_status (200 for CORE_OK). */
int core_status_http(core_status st);

/* The numeric "code" of the public API's error JSON: the gRPC code number the book's gateway
 * returns for the same situation (3 invalid argument, 5 not found, 10 aborted, ...). */
int core_status_code(core_status st);

/* Refusals of the HTTP layer itself, before a request reaches the program's logic: they answer
 * how a request was sent, not what it asked for, so they are not core_status values. */
enum core_refusal {
    CORE_REFUSE_METHOD,       /* a method the path does not take (HTTP 405, code 12) */
    CORE_REFUSE_MEDIA_TYPE,   /* a body in another format than the API takes (HTTP 415, code 3) */
    CORE_REFUSE_UNKNOWN_VERB, /* a method the server does not implement, e.g. TRACE (HTTP 501, code
                                 12) */
    CORE_REFUSE_HTTP_VERSION, /* another HTTP version than 1.0/1.1 (HTTP 505, code 3) */
};

/* The HTTP status and the API error code of a refusal. */
int core_refusal_http(enum core_refusal r);
int core_refusal_code(enum core_refusal r);

#define CORE_ERR_MSG_MAX 256
#define CORE_ERR_PUBLIC_MAX 96

/* Error detail. Caller storage; CORE_ERR_INIT or core_err_clear() before use. */
typedef struct core_err {
    core_status status;
    char msg[CORE_ERR_MSG_MAX];           /* the whole message, for callers and logs */
    char public_msg[CORE_ERR_PUBLIC_MAX]; /* "" = msg may be shown to clients as it is */
} core_err;

#define CORE_ERR_INIT                                                                              \
    {                                                                                              \
        CORE_OK, {0},                                                                              \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

void core_err_clear(core_err *err);

/* Fills err (if not NULL) with st and a printf-style message, and clears its public message (a
 * new message is fit for clients unless core_err_public() follows); returns st so that
 *     return core_err_set(err, CORE_ERR_INVALID, "the basket id cannot be blank");
 * reads as one statement. Messages longer than CORE_ERR_MSG_MAX-1 are cut. */
core_status core_err_set(core_err *err, core_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* core_err_set(err, CORE_ERR_NOMEM, "out of memory"): the one way to report a failed allocation
 * where nothing more useful can be said. Returns CORE_ERR_NOMEM. */
core_status core_err_nomem(core_err *err);

/* Prefixes the message already in err with "context: ". The public message, if any, stays as it
 * is. Returns err->status. */
core_status core_err_wrap(core_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Marks the message in err as internal and sets the printf-style text that clients get instead,
 * in the API's own words ("the database is unavailable, try again"); cut at
 * CORE_ERR_PUBLIC_MAX-1. Call it right after core_err_set(). Returns err->status (err NULL: a
 * no-op returning CORE_ERR_INTERNAL). */
core_status core_err_public(core_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The message a client may see: the public message when one was set, else msg. Borrowed from
 * err. */
const char *core_err_client_msg(const core_err *err);

/* ---- allocation --------------------------------------------------------------------------- */

/* Same contracts as malloc/calloc/realloc/strdup/free. core_free(NULL) is a no-op.
 * Memory from these functions must be released with core_free(). */
void *core_malloc(size_t n);
void *core_calloc(size_t count, size_t size);
void *core_realloc(void *p, size_t n);
char *core_strdup(const char *s);
char *core_strndup(const char *s, size_t n);
void core_free(void *p);

/* Number of live allocations made through the wrappers (allocations minus frees). */
long core_alloc_live(void);

/* Failure injection for tests: the next `n` allocations succeed, every later one fails, until
 * core_alloc_fail_after(-1) switches it off. */
void core_alloc_fail_after(long n);

/* ---- growable arrays and buffers ----------------------------------------------------------
 * The one way the project grows memory as it fills it (no hand-written core_realloc doubling).
 * Both fail only for lack of memory, so they take no core_err: the caller says what it was doing
 * (core_err_nomem(), or a message of its own). */

/* Makes room for at least `needed` elements of elem_size bytes in an array. items is the address
 * of the array's pointer (a T ** passed as void *; the pointer is NULL or from core_malloc & co)
 * and *cap its allocated size in elements. When needed > *cap the array is reallocated to
 * max(needed, 2 * *cap, 8) elements and *cap updated; the elements already there are kept, the
 * new ones are uninitialised. needed <= *cap is a no-op. On CORE_ERR_NOMEM (also when the size
 * would overflow a size_t) *items and *cap are unchanged. A *cap below the number of elements
 * really allocated (e.g. 0 for an array from core_calloc) is safe: it only reallocates sooner;
 * and a NULL *items counts as no room whatever *cap says (*cap is set to 0 first, also when
 * the growth then fails).
 *     if (core_array_grow(&l->items, &l->cap, l->len + 1, sizeof *l->items))
 *         return core_err_nomem(err);
 *     l->items[l->len++] = item; */
core_status core_array_grow(void *items, size_t *cap, size_t needed, size_t elem_size);

/* A byte string that grows as it is added to: the project's string builder. Caller storage,
 * CORE_BUF_INIT (or core_buf_init()) before use, core_buf_release() or core_buf_detach() after.
 *   - buf holds len bytes followed by a NUL once anything was allocated (buf is NULL before:
 *     read the text with core_buf_str(), which is "" then); the bytes may contain NULs.
 *   - Failure is sticky: an addition that cannot allocate returns CORE_ERR_NOMEM and marks the
 *     buffer failed; from then on every addition does nothing and returns CORE_ERR_NOMEM, and
 *     core_buf_detach() gives NULL. So a builder may add many times and check once, at the end
 *     (core_buf_detach() or b->failed), or check every call. core_buf_reset() clears it.
 * Thread-safety: none; one buffer belongs to one thread at a time. */
struct core_buf {
    char *buf;   /* core_malloc'd, or NULL before the first allocation */
    size_t len;  /* bytes in use, not counting the NUL after them */
    size_t cap;  /* bytes allocated (0 = none) */
    bool failed; /* an allocation failed: additions are no-ops until core_buf_reset() */
};
/* clang-format off */
#define CORE_BUF_INIT {NULL, 0, 0, false}
/* clang-format on */

void core_buf_init(struct core_buf *b);

/* Frees the memory and makes b empty again (as core_buf_init()); the buffer may be used again. */
void core_buf_release(struct core_buf *b);

/* Empties b but keeps its memory for reuse, and clears a failure. */
void core_buf_reset(struct core_buf *b);

/* Makes room for `extra` more bytes after len (and the NUL after them), for a caller that writes
 * into buf + len itself (e.g. recv()) and then calls core_buf_set_len(). */
core_status core_buf_grow(struct core_buf *b, size_t extra);

/* Sets len (at most cap - 1: within what was allocated) and writes the NUL after it; for bytes
 * written straight into buf after core_buf_grow(), or to cut the text shorter. */
void core_buf_set_len(struct core_buf *b, size_t len);

/* Appends n bytes of data (n 0: nothing to do; data may then be NULL). */
core_status core_buf_add(struct core_buf *b, const void *data, size_t n);

/* Appends the string s. */
core_status core_buf_add_str(struct core_buf *b, const char *s);

/* Appends printf-style text. A conversion the C library refuses (vsnprintf() < 0, e.g. a wide
 * string that has no multibyte form) marks b failed like a lack of memory, but returns
 * CORE_ERR_INTERNAL. */
core_status core_buf_add_fmt(struct core_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The text so far; "" when nothing was added. Borrowed from b, valid until its next change. */
const char *core_buf_str(const struct core_buf *b);

/* Hands the text over: returns it NUL-terminated (caller frees with core_free(); "" when nothing
 * was added) and stores its length in *len (len may be NULL); b is empty afterwards, as after
 * core_buf_release(). NULL (and b released) when b failed or the allocation of an empty text
 * fails. */
char *core_buf_detach(struct core_buf *b, size_t *len);

/* Bounded string copy that always terminates dst (dst_size > 0). Returns true when all of src
 * fit. The project's replacement for strcpy/strncpy. */
bool core_strlcpy(char *dst, const char *src, size_t dst_size);

/* true when s is NULL or only white space. */
bool core_str_blank(const char *s);

/* ---- identifiers ---------------------------------------------------------------------------- */

#define CORE_UUID_LEN 36

/* Writes a new random (v4) UUID in lower-case text form into out (CORE_UUID_LEN + 1 bytes). */
void core_uuid_new(char out[CORE_UUID_LEN + 1]);

/* Writes the name-based (v5, SHA-1) UUID of text (borrowed, NUL-terminated) in the workspace's
 * namespace into out: the same text always gives the same UUID, different texts different ones
 * (not a secret: anyone with the text can compute it). For ids that must come out the same when a
 * step is repeated, e.g. the reply to a command handled twice (am_reply_id). */
void core_uuid_from(char out[CORE_UUID_LEN + 1], const char *text);

/* true when s is a UUID in text form (any version, either case). */
bool core_uuid_valid(const char *s);

#include "banned.h"

#endif /* CORE_H */
