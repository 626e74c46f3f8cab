/* core.c -- status texts, error detail, counted allocation, UUIDs. See core.h. */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "core.h"

struct status_info {
    const char *name;
    const char *text;
    int http;
    int code; /* gRPC code number, as the book's grpc-gateway reports it */
};

static const struct status_info status_table[CORE_STATUS_COUNT] = {
    [CORE_OK] = {"CORE_OK", "ok", 200, 0},
    [CORE_ERR_INVALID] = {"CORE_ERR_INVALID", "invalid argument", 400, 3},
    [CORE_ERR_NOT_FOUND] = {"CORE_ERR_NOT_FOUND", "not found", 404, 5},
    [CORE_ERR_CONFLICT] = {"CORE_ERR_CONFLICT", "conflict", 409, 10},
    [CORE_ERR_TOO_LARGE] = {"CORE_ERR_TOO_LARGE", "too large", 413, 8},
    [CORE_ERR_UNAVAILABLE] = {"CORE_ERR_UNAVAILABLE", "unavailable", 503, 14},
    [CORE_ERR_IO] = {"CORE_ERR_IO", "i/o error", 500, 13},
    [CORE_ERR_NOMEM] = {"CORE_ERR_NOMEM", "out of memory", 500, 13},
    [CORE_ERR_INTERNAL] = {"CORE_ERR_INTERNAL", "internal error", 500, 13},
};

static const struct status_info *info(core_status st)
{
    if ((unsigned)st >= CORE_STATUS_COUNT)
        st = CORE_ERR_INTERNAL;
    return &status_table[st];
}

const char *core_status_text(core_status st)
{
    return info(st)->text;
}

const char *core_status_name(core_status st)
{
    return info(st)->name;
}

core_status core_status_from_name(const char *name)
{
    for (int i = 0; name && i < CORE_STATUS_COUNT; i++)
        if (strcmp(status_table[i].name, name) == 0)
            return (core_status)i;
    return CORE_ERR_INTERNAL;
}

int core_status_http(core_status st)
{
    return info(st)->http;
}

int core_status_code(core_status st)
{
    return info(st)->code;
}

/* 12 is gRPC's UNIMPLEMENTED, what the book's gateway answers for a method it does not route. */
static const struct {
    int http, code;
} refusal_table[] = {
    [CORE_REFUSE_METHOD] = {405, 12},
    [CORE_REFUSE_MEDIA_TYPE] = {415, 3},
    [CORE_REFUSE_UNKNOWN_VERB] = {501, 12},
    [CORE_REFUSE_HTTP_VERSION] = {505, 3},
};

int core_refusal_http(enum core_refusal r)
{
    return (unsigned)r < sizeof refusal_table / sizeof refusal_table[0] ? refusal_table[r].http
                                                                        : 500;
}

int core_refusal_code(enum core_refusal r)
{
    return (unsigned)r < sizeof refusal_table / sizeof refusal_table[0] ? refusal_table[r].code
                                                                        : 13;
}

void core_err_clear(core_err *err)
{
    if (err) {
        err->status = CORE_OK;
        err->msg[0] = '\0';
        err->public_msg[0] = '\0';
    }
}

core_status core_err_set(core_err *err, core_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = st;
        err->public_msg[0] = '\0';
    }
    return st;
}

core_status core_err_nomem(core_err *err)
{
    return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
}

core_status core_err_public(core_err *err, const char *fmt, ...)
{
    if (!err)
        return CORE_ERR_INTERNAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->public_msg, sizeof err->public_msg, fmt, ap);
    va_end(ap);
    return err->status;
}

const char *core_err_client_msg(const core_err *err)
{
    return err->public_msg[0] ? err->public_msg : err->msg;
}

core_status core_err_wrap(core_err *err, const char *fmt, ...)
{
    if (!err)
        return CORE_ERR_INTERNAL;
    char prefix[CORE_ERR_MSG_MAX];
    char old[CORE_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    core_strlcpy(old, err->msg, sizeof old);
    /* truncation is fine here: the message is cut at CORE_ERR_MSG_MAX, as documented */
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3)
        n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    core_strlcpy(err->msg + n + 2, old, sizeof err->msg - n - 2);
    return err->status;
}

/* ---- allocation ------------------------------------------------------------------------------ */

static atomic_long live_allocs;
static atomic_long fail_budget = -1; /* < 0: never fail */

/* Decides whether this allocation may go ahead (failure injection). */
static bool alloc_allowed(void)
{
    long budget = atomic_load(&fail_budget);
    while (budget >= 0) {
        if (budget == 0)
            return false;
        if (atomic_compare_exchange_weak(&fail_budget, &budget, budget - 1))
            return true;
    }
    return true;
}

void *core_malloc(size_t n)
{
    if (!alloc_allowed())
        return NULL;
    void *p = malloc(n ? n : 1);
    if (p)
        atomic_fetch_add(&live_allocs, 1);
    return p;
}

void *core_calloc(size_t count, size_t size)
{
    if (!alloc_allowed())
        return NULL;
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p)
        atomic_fetch_add(&live_allocs, 1);
    return p;
}

void *core_realloc(void *p, size_t n)
{
    if (!p)
        return core_malloc(n);
    if (!alloc_allowed())
        return NULL;
    return realloc(p, n ? n : 1);
}

char *core_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = core_malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *core_strdup(const char *s)
{
    return core_strndup(s, strlen(s));
}

void core_free(void *p)
{
    if (p) {
        atomic_fetch_sub(&live_allocs, 1);
        free(p);
    }
}

long core_alloc_live(void)
{
    return atomic_load(&live_allocs);
}

void core_alloc_fail_after(long n)
{
    atomic_store(&fail_budget, n);
}

/* ---- growable arrays and buffers ---------------------------------------------------------------
 */

core_status core_array_grow(void *items, size_t *cap, size_t needed, size_t elem_size)
{
    assert(items && cap && elem_size > 0);
    void *old;
    memcpy(&old, items, sizeof old); /* items points at a T *: read it as bytes, not as a void * */
    if (!old)
        *cap = 0; /* a NULL array has no room, whatever *cap says (e.g. after a move) */
    if (needed <= *cap)
        return CORE_OK;
    size_t max = SIZE_MAX / elem_size; /* the most elements a size_t can measure */
    if (needed > max)
        return CORE_ERR_NOMEM;
    size_t ncap = *cap < 4 ? 8 : *cap <= max / 2 ? *cap * 2 : max;
    if (ncap < needed)
        ncap = needed;
    void *grown = core_realloc(old, ncap * elem_size);
    if (!grown)
        return CORE_ERR_NOMEM;
    memcpy(items, &grown, sizeof grown); /* and written back the same way */
    *cap = ncap;
    return CORE_OK;
}

#define CORE_BUF_MIN 64 /* the first allocation of a buffer, in bytes */

void core_buf_init(struct core_buf *b)
{
    *b = (struct core_buf)CORE_BUF_INIT;
}

void core_buf_release(struct core_buf *b)
{
    core_free(b->buf);
    core_buf_init(b);
}

void core_buf_reset(struct core_buf *b)
{
    b->failed = false;
    b->len = 0;
    if (b->buf)
        b->buf[0] = '\0';
}

core_status core_buf_grow(struct core_buf *b, size_t extra)
{
    if (b->failed)
        return CORE_ERR_NOMEM;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = true;
        return CORE_ERR_NOMEM;
    }
    size_t needed = b->len + extra + 1; /* + the NUL */
    if (needed <= b->cap)
        return CORE_OK;
    if (needed < CORE_BUF_MIN)
        needed = CORE_BUF_MIN;
    bool first = b->cap == 0;
    if (core_array_grow(&b->buf, &b->cap, needed, 1)) {
        b->failed = true;
        return CORE_ERR_NOMEM;
    }
    if (first)
        b->buf[0] = '\0';
    return CORE_OK;
}

void core_buf_set_len(struct core_buf *b, size_t len)
{
    assert(len < b->cap || (len == 0 && b->cap == 0));
    b->len = len;
    if (b->buf)
        b->buf[len] = '\0';
}

core_status core_buf_add(struct core_buf *b, const void *data, size_t n)
{
    if (core_buf_grow(b, n))
        return CORE_ERR_NOMEM;
    if (n > 0)
        memcpy(b->buf + b->len, data, n);
    core_buf_set_len(b, b->len + n);
    return CORE_OK;
}

core_status core_buf_add_str(struct core_buf *b, const char *s)
{
    return core_buf_add(b, s, strlen(s));
}

core_status core_buf_add_fmt(struct core_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return CORE_ERR_NOMEM;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    /* first into the room there is; when that is too small, grow by what it needs and again */
    size_t room = b->cap - b->len; /* cap > len once allocated, both 0 before */
    int n = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
    core_status st = CORE_OK;
    if (n < 0) {
        b->failed = true; /* a conversion the C library refuses (EILSEQ): nothing fits */
        st = CORE_ERR_INTERNAL;
    } else if ((size_t)n >= room && (st = core_buf_grow(b, (size_t)n)) == CORE_OK) {
        vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    va_end(ap);
    if (st == CORE_OK)
        core_buf_set_len(b, b->len + (size_t)n);
    else if (b->buf)
        b->buf[b->len] = '\0'; /* the part written into the old room is not added */
    return st;
}

const char *core_buf_str(const struct core_buf *b)
{
    return b->buf ? b->buf : "";
}

char *core_buf_detach(struct core_buf *b, size_t *len)
{
    if (!b->failed && !b->buf)
        core_buf_grow(b, 0);
    char *text = b->failed ? NULL : b->buf;
    if (text && len)
        *len = b->len;
    if (text)
        core_buf_init(b);
    else
        core_buf_release(b);
    return text;
}

bool core_strlcpy(char *dst, const char *src, size_t dst_size)
{
    size_t len = strlen(src);
    size_t n = len < dst_size - 1 ? len : dst_size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n == len;
}

bool core_str_blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* ---- identifiers ------------------------------------------------------------------------------
 */

void core_uuid_new(char out[CORE_UUID_LEN + 1])
{
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

void core_uuid_from(char out[CORE_UUID_LEN + 1], const char *text)
{
    /* the workspace's namespace: a fixed random UUID, so its ids never collide with the
     * standard DNS/URL namespaces' */
    static const uuid_t ns = {0x8e, 0x1f, 0x0b, 0x5c, 0x4a, 0x2d, 0x4c, 0x61,
                              0x9b, 0x3e, 0x7d, 0x52, 0x06, 0xa8, 0xf1, 0x94};
    uuid_t u;
    uuid_generate_sha1(u, ns, text, strlen(text));
    uuid_unparse_lower(u, out);
}

bool core_uuid_valid(const char *s)
{
    uuid_t u;
    return s && strlen(s) == CORE_UUID_LEN && uuid_parse(s, u) == 0;
}
