/* pbjson.c -- JSON <-> protobuf-c transcoding. See pbjson.h.
 *
 * Reading order: small helpers (names, numbers, base64, UTF-8, RFC 3339), then decoding (JSON ->
 * message: dec_*), then encoding (message -> JSON: enc_*), then the serialiser (pbjson_dump).
 *
 * Every field of a generated message is reached through its ProtobufCFieldDescriptor: `offset` is
 * where the value lives, `quantifier_offset` where its count (repeated), has_ flag (proto2
 * optional scalars) or oneof case lives. A decoded message is built in place with pb_new(), and
 * each value is stored as soon as it exists, so pb_free() can release a half-built message on any
 * error path.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "pb.h"
#include "pbjson.h"

#define WKT_TIMESTAMP "google.protobuf.Timestamp"
#define WKT_STRUCT "google.protobuf.Struct"
#define WKT_VALUE "google.protobuf.Value"
#define WKT_LIST "google.protobuf.ListValue"
#define WKT_NULL "google.protobuf.NullValue"

/* RFC 3339 range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define TS_MIN_SECONDS INT64_C(-62135596800)
#define TS_MAX_SECONDS INT64_C(253402300799)

#define SHOWN "%.64s" /* user text echoed in an error message is cut here */

/* One value of any field type; stored into a message with memcpy(dst, &v, elt_size(type)). */
union val {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f;
    double d;
    protobuf_c_boolean b;
    char *s;
    ProtobufCBinaryData bin;
    ProtobufCMessage *m;
};

/* Transcoding state: where we are (for error messages) and how text is judged. */
struct ctx {
    core_err *err;
    bool text;      /* values come as plain text (path parameter, map key), not as JSON */
    int depth;      /* nested dec_message/dec_pbvalue calls: bounds the recursion */
    size_t len;     /* strlen(path) */
    char path[200]; /* "items[1].quantity" */
};

/* ---- errors and the field path ----------------------------------------------------------------
 */

static core_status bad(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An input problem: CORE_ERR_INVALID, prefixed with field "<path>": when inside a field. */
static core_status bad(struct ctx *c, const char *fmt, ...)
{
    char msg[CORE_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->len > 0)
        core_err_set(c->err, CORE_ERR_INVALID, "field \"%s\": %s", c->path, msg);
    else
        core_err_set(c->err, CORE_ERR_INVALID, "%s", msg);
    if (c->err) /* user text may have been cut inside a character, or may not be UTF-8 at all */
        pbjson_make_utf8(c->err->msg);
    return CORE_ERR_INVALID;
}

static core_status oom(struct ctx *c)
{
    return core_err_set(c->err, CORE_ERR_NOMEM, "out of memory transcoding JSON");
}

/* Appends a, b and d (each may be NULL) to the path; returns the old length for path_pop(). A
 * path longer than the buffer is cut. It runs for every field and element transcoded while only
 * error messages read the path, so it copies bytes instead of formatting (no printf). */
static size_t path_add(struct ctx *c, const char *a, const char *b, const char *d)
{
    size_t old = c->len;
    const char *parts[] = {a, b, d};
    for (size_t i = 0; i < 3; i++) {
        if (!parts[i])
            continue;
        size_t n = strlen(parts[i]), room = sizeof c->path - 1 - c->len;
        if (n > room)
            n = room;
        memcpy(c->path + c->len, parts[i], n);
        c->len += n;
    }
    c->path[c->len] = '\0';
    return old;
}

static size_t path_name(struct ctx *c, const char *name)
{
    return path_add(c, c->len > 0 ? "." : NULL, name, NULL);
}

/* "[key]" of a map entry */
static size_t path_key(struct ctx *c, const char *key)
{
    return path_add(c, "[", key, "]");
}

/* "[i]" of a list element */
static size_t path_index(struct ctx *c, size_t i)
{
    char digits[24], *p = digits + sizeof digits - 1;
    *p = '\0';
    do {
        *--p = (char)('0' + i % 10);
        i /= 10;
    } while (i > 0);
    return path_add(c, "[", p, "]");
}

static void path_pop(struct ctx *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}

static const char *type_name(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
        return "int32";
    case PROTOBUF_C_TYPE_SINT32:
        return "sint32";
    case PROTOBUF_C_TYPE_SFIXED32:
        return "sfixed32";
    case PROTOBUF_C_TYPE_INT64:
        return "int64";
    case PROTOBUF_C_TYPE_SINT64:
        return "sint64";
    case PROTOBUF_C_TYPE_SFIXED64:
        return "sfixed64";
    case PROTOBUF_C_TYPE_UINT32:
        return "uint32";
    case PROTOBUF_C_TYPE_FIXED32:
        return "fixed32";
    case PROTOBUF_C_TYPE_UINT64:
        return "uint64";
    case PROTOBUF_C_TYPE_FIXED64:
        return "fixed64";
    case PROTOBUF_C_TYPE_FLOAT:
        return "float";
    case PROTOBUF_C_TYPE_DOUBLE:
        return "double";
    case PROTOBUF_C_TYPE_BOOL:
        return "bool";
    case PROTOBUF_C_TYPE_ENUM:
        return "enum";
    case PROTOBUF_C_TYPE_STRING:
        return "string";
    case PROTOBUF_C_TYPE_BYTES:
        return "bytes";
    case PROTOBUF_C_TYPE_MESSAGE:
        return "message";
    }
    return "?";
}

/* ---- descriptors ------------------------------------------------------------------------------
 */

enum int_kind { IK_NONE, IK_I32, IK_U32, IK_I64, IK_U64 };

static enum int_kind int_kind(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return IK_I32;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return IK_U32;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return IK_I64;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return IK_U64;
    default:
        return IK_NONE;
    }
}

/* Size of one value of type t in a message or a repeated array (as protobuf-c lays them out). */
static size_t elt_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4; /* 32-bit integers, float, enum */
    }
}

static bool msg_is(const ProtobufCMessageDescriptor *d, const char *full_name)
{
    return d && strcmp(d->name, full_name) == 0;
}

static bool is_value_msg(ProtobufCType t, const void *desc)
{
    return t == PROTOBUF_C_TYPE_MESSAGE && msg_is(desc, WKT_VALUE);
}

static void *member_of(const ProtobufCMessage *m, unsigned offset)
{
    return (char *)m + offset;
}

/* A proto2 optional scalar or bytes field: presence lives in a has_ flag. */
static bool has_flag(const ProtobufCFieldDescriptor *f)
{
    return f->label == PROTOBUF_C_LABEL_OPTIONAL && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
           f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

/* Writes the JSON name of a proto field name into buf: "customer_id" -> "customerId" (protoc's
 * ToJsonName). A name that does not fit stays as the proto name (never happens in practice). */
static const char *json_name(const char *proto, char *buf, size_t cap)
{
    size_t n = 0;
    bool up = false;
    for (const char *p = proto; *p; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        if (n + 1 >= cap)
            return proto;
        buf[n++] = (up && *p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
        up = false;
    }
    buf[n] = '\0';
    return buf;
}

static bool json_name_equals(const char *proto, const char *key)
{
    bool up = false;
    for (const char *p = proto; *p; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        char want = (up && *p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
        if (*key++ != want)
            return false;
        up = false;
    }
    return *key == '\0';
}

const ProtobufCFieldDescriptor *pbjson_find_field(const ProtobufCMessageDescriptor *desc,
                                                  const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    for (unsigned i = 0; !f && i < desc->n_fields; i++)
        if (json_name_equals(desc->fields[i].name, name))
            f = &desc->fields[i];
    return f;
}

/* protoc's name of a map field's entry message: "items_by_id" -> "ItemsByIdEntry". */
static bool entry_name_matches(const char *entry, const char *field)
{
    bool up = true;
    for (const char *p = field; *p; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        char want = (up && *p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
        if (*entry++ != want)
            return false;
        up = false;
    }
    return strcmp(entry, "Entry") == 0;
}

/* protobuf-c keeps no "map entry" flag: a map field is a repeated field of the nested message
 * protoc generates for it, <Parent>.<FieldName>Entry with fields key = 1 and value = 2. */
static bool is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessageDescriptor *e = f->descriptor;
    if (e->n_fields != 2 || e->fields[0].id != 1 || e->fields[1].id != 2 ||
        strcmp(e->fields[0].name, "key") != 0 || strcmp(e->fields[1].name, "value") != 0)
        return false;
    size_t pl = strlen(parent->name);
    return strncmp(e->name, parent->name, pl) == 0 && e->name[pl] == '.' &&
           entry_name_matches(e->name + pl + 1, f->name);
}

const char *pbjson_json_name(const char *proto, char *buf, size_t cap)
{
    return json_name(proto, buf, cap);
}

bool pbjson_field_is_map(const ProtobufCMessageDescriptor *parent,
                         const ProtobufCFieldDescriptor *f)
{
    return is_map(parent, f);
}

/* Frees what a slot of type t holds (not the slot). */
static void free_slot(ProtobufCType t, void *slot, const void *default_value)
{
    if (t == PROTOBUF_C_TYPE_STRING) {
        char *s = *(char **)slot;
        if (s && s != default_value && s != protobuf_c_empty_string)
            core_free(s);
    } else if (t == PROTOBUF_C_TYPE_BYTES) {
        ProtobufCBinaryData *b = slot;
        const ProtobufCBinaryData *def = default_value;
        if (b->data && (!def || b->data != def->data))
            core_free(b->data);
    } else if (t == PROTOBUF_C_TYPE_MESSAGE) {
        ProtobufCMessage *m = *(ProtobufCMessage **)slot;
        if (m != default_value)
            pb_free(m);
    }
}

/* ---- numbers ----------------------------------------------------------------------------------
 */

/* -?[0-9]+ */
static bool is_int_syntax(const char *s)
{
    if (*s == '-')
        s++;
    if (!(*s >= '0' && *s <= '9'))
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    return *s == '\0';
}

/* A JSON number: -?[0-9]+(.[0-9]+)?([eE][+-]?[0-9]+)? (leading zeros tolerated). */
static bool is_number_syntax(const char *s)
{
    if (*s == '-')
        s++;
    if (!(*s >= '0' && *s <= '9'))
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* Writes finite d as JSON much as Go's protojson does: the fewest significant digits that read
 * back as exactly d (as exactly (float)d when is_float), in plain decimal notation for
 * 1e-6 <= |d| < 1e18 ("200", "0.000001", "9.99") and in exponent notation otherwise ("1e+18",
 * "1e-7"). Go switches at 1e21; here at 1e18 because jansson (our own reader too) refuses an
 * integer-looking number beyond int64. */
static void fmt_real(double d, bool is_float, char buf[64])
{
    char e[64];
    int p;
    for (p = 0; p < 17; p++) {
        snprintf(e, sizeof e, "%.*e", p, d);
        double back = strtod(e, NULL);
        if (is_float ? (float)back == (float)d : back == d)
            break;
    }
    double a = fabs(d);
    if (a != 0 && (a < 1e-6 || a >= 1e18)) {
        /* "1.5e-07" -> "1.5e-7" (C writes two exponent digits, Go drops the zero) */
        size_t n = strlen(e);
        if (n >= 4 && e[n - 4] == 'e' && e[n - 3] == '-' && e[n - 2] == '0') {
            e[n - 2] = e[n - 1];
            e[n - 1] = '\0';
        }
        core_strlcpy(buf, e, 64);
        return;
    }
    int exp10 = atoi(strchr(e, 'e') + 1);
    int decimals = p - exp10 > 0 ? p - exp10 : 0;
    snprintf(buf, 64, "%.*f", decimals, d);
}

static void fmt_double(double d, char buf[64])
{
    fmt_real(d, false, buf);
}

static core_status int_from_ll(struct ctx *c, ProtobufCType t, long long x, union val *v)
{
    switch (int_kind(t)) {
    case IK_I32:
        if (x < INT32_MIN || x > INT32_MAX)
            break;
        v->i32 = (int32_t)x;
        return CORE_OK;
    case IK_U32:
        if (x < 0 || x > (long long)UINT32_MAX)
            break;
        v->u32 = (uint32_t)x;
        return CORE_OK;
    case IK_I64:
        v->i64 = (int64_t)x;
        return CORE_OK;
    case IK_U64:
        if (x < 0)
            break;
        v->u64 = (uint64_t)x;
        return CORE_OK;
    case IK_NONE:
        break;
    }
    return bad(c, "%lld out of range for %s", x, type_name(t));
}

/* shown: how the value is quoted in error messages. */
static core_status int_from_double(struct ctx *c, ProtobufCType t, double d, const char *shown,
                                   union val *v)
{
    bool ok = false;
    if (!isfinite(d))
        return bad(c, SHOWN " out of range for %s", shown, type_name(t));
    if (d != floor(d))
        return bad(c, SHOWN " is not an integer", shown);
    switch (int_kind(t)) {
    case IK_I32:
        if ((ok = d >= -2147483648.0 && d <= 2147483647.0))
            v->i32 = (int32_t)d;
        break;
    case IK_U32:
        if ((ok = d >= 0 && d <= 4294967295.0))
            v->u32 = (uint32_t)d;
        break;
    case IK_I64:
        if ((ok = d >= -9223372036854775808.0 && d < 9223372036854775808.0))
            v->i64 = (int64_t)d;
        break;
    case IK_U64:
        if ((ok = d >= 0 && d < 18446744073709551616.0))
            v->u64 = (uint64_t)d;
        break;
    case IK_NONE:
        break;
    }
    return ok ? CORE_OK : bad(c, SHOWN " out of range for %s", shown, type_name(t));
}

static core_status int_from_text(struct ctx *c, ProtobufCType t, const char *s, union val *v)
{
    if (is_int_syntax(s)) {
        errno = 0;
        if (int_kind(t) == IK_U64 && s[0] != '-') {
            unsigned long long u = strtoull(s, NULL, 10);
            if (errno == ERANGE)
                return bad(c, SHOWN " out of range for %s", s, type_name(t));
            v->u64 = (uint64_t)u;
            return CORE_OK;
        }
        long long x = strtoll(s, NULL, 10);
        if (errno == ERANGE)
            return bad(c, SHOWN " out of range for %s", s, type_name(t));
        return int_from_ll(c, t, x, v);
    }
    if (is_number_syntax(s))
        return int_from_double(c, t, strtod(s, NULL), s, v);
    if (c->text)
        return bad(c, "\"" SHOWN "\" is not an integer", s);
    return bad(c, "expected an integer, got a string");
}

static core_status set_float(struct ctx *c, ProtobufCType t, double d, const char *shown,
                             union val *v)
{
    if (t == PROTOBUF_C_TYPE_DOUBLE) {
        v->d = d;
        return CORE_OK;
    }
    /* 0x1.ffffffp127 is half-way between FLT_MAX and 2^128: from there on (float)d is infinite */
    if (isfinite(d) && fabs(d) >= 0x1.ffffffp127)
        return bad(c, SHOWN " out of range for float", shown);
    v->f = (float)d;
    return CORE_OK;
}

static core_status float_from_text(struct ctx *c, ProtobufCType t, const char *s, union val *v)
{
    double d;
    if (strcmp(s, "NaN") == 0)
        d = NAN;
    else if (strcmp(s, "Infinity") == 0)
        d = INFINITY;
    else if (strcmp(s, "-Infinity") == 0)
        d = -INFINITY;
    else if (is_number_syntax(s)) {
        d = strtod(s, NULL);
        if (!isfinite(d))
            return bad(c, SHOWN " out of range for %s", s, type_name(t));
    } else if (c->text)
        return bad(c, "\"" SHOWN "\" is not a number", s);
    else
        return bad(c, "expected a number, got a string");
    return set_float(c, t, d, s, v);
}

static core_status enum_from_number(struct ctx *c, const ProtobufCEnumDescriptor *ed, long long x,
                                    union val *v)
{
    if (x < INT32_MIN || x > INT32_MAX || !protobuf_c_enum_descriptor_get_value(ed, (int)x))
        return bad(c, "unknown enum value %lld for %s", x, ed->name);
    v->i32 = (int32_t)x;
    return CORE_OK;
}

static core_status enum_from_name(struct ctx *c, const ProtobufCEnumDescriptor *ed, const char *s,
                                  union val *v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, s);
    if (ev) {
        v->i32 = (int32_t)ev->value;
        return CORE_OK;
    }
    if (c->text && is_int_syntax(s)) {
        errno = 0;
        long long x = strtoll(s, NULL, 10);
        if (errno != ERANGE)
            return enum_from_number(c, ed, x, v);
    }
    return bad(c, "unknown enum value \"" SHOWN "\" for %s", s, ed->name);
}

/* ---- base64 -----------------------------------------------------------------------------------
 */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

/* Standard or URL-safe alphabet, padding optional (but correct when present). */
static core_status b64_decode(struct ctx *c, const char *s, size_t n, ProtobufCBinaryData *out)
{
    size_t len = n, pad = 0;
    while (len > 0 && s[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }
    if (len % 4 == 1 || (pad > 0 && (n % 4 != 0)))
        return bad(c, "invalid base64 data");
    size_t out_len = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    unsigned char *buf = NULL;
    if (out_len > 0 && !(buf = core_malloc(out_len)))
        return oom(c);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) {
            core_free(buf);
            return bad(c, "invalid base64 data");
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out->data = buf;
    out->len = o;
    return CORE_OK;
}

/* Standard alphabet with padding; *out core_malloc'd, NUL-terminated. */
static char *b64_encode(const unsigned char *data, size_t n, size_t *out_len)
{
    size_t len = (n + 2) / 3 * 4;
    char *out = core_malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t b = (uint32_t)data[i] << 16;
        if (i + 1 < n)
            b |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < n)
            b |= data[i + 2];
        out[o++] = b64_chars[(b >> 18) & 63];
        out[o++] = b64_chars[(b >> 12) & 63];
        out[o++] = i + 1 < n ? b64_chars[(b >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64_chars[b & 63] : '=';
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* ---- UTF-8 ------------------------------------------------------------------------------------
 */

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if there is none. Strict: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned ch = s[0];
    size_t len;
    uint32_t cp;
    if (ch < 0x80)
        return 1;
    if (ch >= 0xC2 && ch <= 0xDF) {
        len = 2;
        cp = ch & 0x1F;
    } else if ((ch & 0xF0) == 0xE0) {
        len = 3;
        cp = ch & 0x0F;
    } else if (ch >= 0xF0 && ch <= 0xF4) {
        len = 4;
        cp = ch & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k)
        if ((k = utf8_seq(s + i, n - i)) == 0)
            return false;
    return true;
}

bool pbjson_utf8_valid(const char *s, size_t n)
{
    return utf8_valid((const unsigned char *)s, n);
}

void pbjson_make_utf8(char *text)
{
    unsigned char *s = (unsigned char *)text;
    size_t n = strlen(text);
    for (size_t i = 0, k; i < n; i += k)
        if ((k = utf8_seq(s + i, n - i)) == 0) {
            s[i] = '?';
            k = 1;
        }
}

/* ---- RFC 3339 ---------------------------------------------------------------------------------
 */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool take_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char ch = (*p)[i];
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (ch - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool take_char(const char **p, const char *allowed)
{
    if (**p == '\0' || !strchr(allowed, **p))
        return false;
    (*p)++;
    return true;
}

static bool parse_rfc3339(const char *s, int64_t *seconds, int32_t *nanos)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    int32_t ns = 0;
    if (!take_digits(&p, 4, &y) || !take_char(&p, "-") || !take_digits(&p, 2, &mo) ||
        !take_char(&p, "-") || !take_digits(&p, 2, &d) || !take_char(&p, "Tt") ||
        !take_digits(&p, 2, &h) || !take_char(&p, ":") || !take_digits(&p, 2, &mi) ||
        !take_char(&p, ":") || !take_digits(&p, 2, &sec))
        return false;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (++digits > 9)
                return false;
            ns = ns * 10 + (*p++ - '0');
        }
        if (digits == 0)
            return false;
        for (; digits < 9; digits++)
            ns *= 10;
    }
    if (take_char(&p, "Zz")) {
        sign = 0;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '+' ? 1 : -1;
        if (!take_digits(&p, 2, &oh) || !take_char(&p, ":") || !take_digits(&p, 2, &om) ||
            oh > 23 || om > 59)
            return false;
    } else {
        return false;
    }
    if (*p != '\0' || y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return false;
    int64_t secs =
        days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
    if (secs < TS_MIN_SECONDS || secs > TS_MAX_SECONDS)
        return false;
    *seconds = secs;
    *nanos = ns;
    return true;
}

core_status pbjson_timestamp_parse(const char *text, int64_t *seconds, int32_t *nanos,
                                   core_err *err)
{
    if (!text || !parse_rfc3339(text, seconds, nanos)) {
        core_err_set(err, CORE_ERR_INVALID,
                     "invalid timestamp \"" SHOWN "\" (want RFC 3339, e.g. 2026-11-26T13:04:05Z)",
                     text ? text : "");
        if (err)
            pbjson_make_utf8(err->msg);
        return CORE_ERR_INVALID;
    }
    return CORE_OK;
}

core_status pbjson_timestamp_format(int64_t seconds, int32_t nanos, char out[PBJSON_TIMESTAMP_MAX],
                                    core_err *err)
{
    if (seconds < TS_MIN_SECONDS || seconds > TS_MAX_SECONDS || nanos < 0 || nanos > 999999999)
        return core_err_set(err, CORE_ERR_INVALID,
                            "timestamp %" PRId64 "s %" PRId32
                            "ns is outside 0001-01-01..9999-12-31 (RFC 3339)",
                            seconds, nanos);
    int64_t days = seconds / 86400, rem = seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    char frac[12] = "";
    if (nanos % 1000000 == 0 && nanos != 0)
        snprintf(frac, sizeof frac, ".%03" PRId32, nanos / 1000000);
    else if (nanos % 1000 == 0 && nanos != 0)
        snprintf(frac, sizeof frac, ".%06" PRId32, nanos / 1000);
    else if (nanos != 0)
        snprintf(frac, sizeof frac, ".%09" PRId32, nanos);
    snprintf(out, PBJSON_TIMESTAMP_MAX, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", (int)y, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), frac);
    return CORE_OK;
}

/* ==== decoding: JSON -> message ================================================================
 */

static core_status dec_message(struct ctx *c, const ProtobufCMessageDescriptor *desc, json_t *j,
                               ProtobufCMessage **out);
static core_status dec_pbvalue(struct ctx *c, json_t *j, ProtobufCMessage **out);

/* Every recursion of the decoder passes through dec_message() or dec_pbvalue(), each at least one
 * JSON level deeper than its caller: counting them bounds the stack for a json_t from anywhere
 * (pbjson_decode() has already refused deeper text). */
static bool too_deep(struct ctx *c)
{
    return c->depth > PBJSON_MAX_DEPTH + 1;
}

/* A value of type t given as plain text (path parameter or map key; c->text) or as the content
 * of a JSON string (only for types that accept strings). */
static core_status dec_text(struct ctx *c, ProtobufCType t, const void *desc, const char *s,
                            size_t n, union val *v)
{
    switch (t) {
    case PROTOBUF_C_TYPE_STRING:
        if (!(v->s = core_strndup(s, n)))
            return oom(c);
        return CORE_OK;
    case PROTOBUF_C_TYPE_BYTES:
        return b64_decode(c, s, n, &v->bin);
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
            v->b = s[0] == 't';
            return CORE_OK;
        }
        return c->text ? bad(c, "\"" SHOWN "\" is not a boolean", s)
                       : bad(c, "expected a boolean, got a string");
    case PROTOBUF_C_TYPE_ENUM:
        return enum_from_name(c, desc, s, v);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return float_from_text(c, t, s, v);
    case PROTOBUF_C_TYPE_MESSAGE:
        return bad(c, "a message cannot be set from text");
    default:
        return int_from_text(c, t, s, v);
    }
}

/* A value of type t (not null) from JSON. */
static core_status dec_json(struct ctx *c, ProtobufCType t, const void *desc, json_t *j,
                            union val *v)
{
    char shown[64];
    if (t == PROTOBUF_C_TYPE_MESSAGE)
        return dec_message(c, desc, j, &v->m);
    if (t == PROTOBUF_C_TYPE_BOOL && !json_is_boolean(j))
        return bad(c, "expected a boolean, got %s", json_kind(j));
    if (t == PROTOBUF_C_TYPE_BOOL) {
        v->b = json_is_true(j);
        return CORE_OK;
    }
    if (json_is_string(j))
        return dec_text(c, t, desc, json_string_value(j), json_string_length(j), v);
    switch (t) {
    case PROTOBUF_C_TYPE_STRING:
        return bad(c, "expected a string, got %s", json_kind(j));
    case PROTOBUF_C_TYPE_BYTES:
        return bad(c, "expected a base64 string, got %s", json_kind(j));
    case PROTOBUF_C_TYPE_ENUM:
        if (json_is_integer(j))
            return enum_from_number(c, desc, json_integer_value(j), v);
        return bad(c, "expected an enum name or number, got %s", json_kind(j));
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (json_is_integer(j)) {
            snprintf(shown, sizeof shown, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
            return set_float(c, t, (double)json_integer_value(j), shown, v);
        }
        if (json_is_real(j)) {
            fmt_double(json_real_value(j), shown);
            return set_float(c, t, json_real_value(j), shown, v);
        }
        return bad(c, "expected a number, got %s", json_kind(j));
    default: /* integers */
        if (json_is_integer(j))
            return int_from_ll(c, t, json_integer_value(j), v);
        if (json_is_real(j)) {
            fmt_double(json_real_value(j), shown);
            return int_from_double(c, t, json_real_value(j), shown, v);
        }
        return bad(c, "expected an integer, got %s", json_kind(j));
    }
}

/* An element of a list or a map value: null only for google.protobuf.Value. */
static core_status dec_element(struct ctx *c, ProtobufCType t, const void *desc, json_t *j,
                               union val *v, const char *null_what)
{
    if (json_is_null(j)) {
        if (is_value_msg(t, desc))
            return dec_pbvalue(c, j, &v->m);
        return bad(c, "null is not allowed %s", null_what);
    }
    return dec_json(c, t, desc, j, v);
}

/* Allocates a zeroed array of n slots and hangs it on the message at once (count included), so
 * pb_free() releases whatever was filled in when a later element fails. */
static core_status attach_array(struct ctx *c, ProtobufCMessage *msg,
                                const ProtobufCFieldDescriptor *f, size_t n, void **arr)
{
    if (!(*arr = core_calloc(n, elt_size(f->type))))
        return oom(c);
    *(void **)member_of(msg, f->offset) = *arr;
    *(size_t *)member_of(msg, f->quantifier_offset) = n;
    return CORE_OK;
}

static core_status dec_map(struct ctx *c, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                           json_t *j)
{
    if (!json_is_object(j))
        return bad(c, "expected an object, got %s", json_kind(j));
    size_t n = json_object_size(j);
    if (n == 0)
        return CORE_OK;
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
    void *arr;
    core_status st = attach_array(c, msg, f, n, &arr);
    size_t i = 0;
    const char *key;
    json_t *jv;
    json_object_foreach(j, key, jv)
    {
        if (st != CORE_OK)
            break;
        size_t mark = path_key(c, key);
        ProtobufCMessage *entry = pb_new(ed);
        union val kv, vv;
        if (!entry) {
            st = oom(c);
        } else {
            ((ProtobufCMessage **)arr)[i++] = entry;
            bool was_text = c->text;
            c->text = true;
            st = dec_text(c, kf->type, kf->descriptor, key, strlen(key), &kv);
            c->text = was_text;
        }
        if (st == CORE_OK) {
            free_slot(kf->type, member_of(entry, kf->offset), kf->default_value);
            memcpy(member_of(entry, kf->offset), &kv, elt_size(kf->type));
            st = dec_element(c, vf->type, vf->descriptor, jv, &vv, "as a map value");
        }
        if (st == CORE_OK) {
            free_slot(vf->type, member_of(entry, vf->offset), vf->default_value);
            memcpy(member_of(entry, vf->offset), &vv, elt_size(vf->type));
        }
        path_pop(c, mark);
    }
    return st;
}

static core_status dec_list(struct ctx *c, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                            json_t *j)
{
    if (!json_is_array(j))
        return bad(c, "expected an array, got %s", json_kind(j));
    size_t n = json_array_size(j);
    if (n == 0)
        return CORE_OK;
    void *arr;
    core_status st = attach_array(c, msg, f, n, &arr);
    size_t es = elt_size(f->type);
    for (size_t i = 0; st == CORE_OK && i < n; i++) {
        size_t mark = path_index(c, i);
        union val v;
        st = dec_element(c, f->type, f->descriptor, json_array_get(j, i), &v, "in a list");
        if (st == CORE_OK) {
            memcpy((char *)arr + i * es, &v, es);
            path_pop(c, mark);
        }
    }
    return st;
}

/* Stores v (ownership passes to msg) into singular field f, replacing what was there; for a
 * oneof member, the member that was set before is freed. */
static void store_singular(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, union val *v)
{
    void *slot = member_of(msg, f->offset);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *cs = member_of(msg, f->quantifier_offset);
        const ProtobufCFieldDescriptor *cur =
            *cs ? protobuf_c_message_descriptor_get_field(msg->descriptor, *cs) : NULL;
        if (cur)
            free_slot(cur->type, slot, cur->default_value);
        *cs = f->id;
    } else {
        free_slot(f->type, slot, f->default_value);
        if (has_flag(f))
            *(protobuf_c_boolean *)member_of(msg, f->quantifier_offset) = 1;
    }
    memcpy(slot, v, elt_size(f->type));
}

static core_status dec_field(struct ctx *c, ProtobufCMessage *msg,
                             const ProtobufCFieldDescriptor *f, json_t *j)
{
    if (json_is_null(j))
        return CORE_OK; /* the default */
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return is_map(msg->descriptor, f) ? dec_map(c, msg, f, j) : dec_list(c, msg, f, j);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t cs = *(uint32_t *)member_of(msg, f->quantifier_offset);
        const ProtobufCFieldDescriptor *cur =
            cs ? protobuf_c_message_descriptor_get_field(msg->descriptor, cs) : NULL;
        char name[128];
        if (cur && cur != f)
            return bad(c, "only one member of a oneof may be set, and \"%s\" is set too",
                       json_name(cur->name, name, sizeof name));
    }
    union val v;
    core_status st = dec_json(c, f->type, f->descriptor, j, &v);
    if (st == CORE_OK)
        store_singular(msg, f, &v);
    return st;
}

static core_status dec_fields(struct ctx *c, ProtobufCMessage *msg, json_t *j)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    unsigned char seen_small[128];
    unsigned char *seen = seen_small;
    if (desc->n_fields > sizeof seen_small && !(seen = core_calloc(desc->n_fields, 1)))
        return oom(c);
    if (seen == seen_small)
        memset(seen_small, 0, sizeof seen_small);
    core_status st = CORE_OK;
    const char *key;
    json_t *jv;
    json_object_foreach(j, key, jv)
    {
        const ProtobufCFieldDescriptor *f = pbjson_find_field(desc, key);
        if (!f) {
            st = core_err_set(c->err, CORE_ERR_INVALID, "unknown field \"%s%s" SHOWN "\" in %s",
                              c->path, c->len ? "." : "", key, desc->name);
            if (c->err)
                pbjson_make_utf8(c->err->msg);
            break;
        }
        size_t mark = path_name(c, key);
        size_t idx = (size_t)(f - desc->fields);
        if (seen[idx])
            st = bad(c, "given twice (under its proto name and its JSON name)");
        else
            seen[idx] = 1;
        if (st == CORE_OK)
            st = dec_field(c, msg, f, jv);
        if (st != CORE_OK)
            break;
        path_pop(c, mark);
    }
    if (seen != seen_small)
        core_free(seen);
    return st;
}

static core_status dec_timestamp(struct ctx *c, json_t *j, ProtobufCMessage **out)
{
    if (!json_is_string(j))
        return bad(c, "expected an RFC 3339 timestamp string, got %s", json_kind(j));
    int64_t secs;
    int32_t nanos;
    if (!parse_rfc3339(json_string_value(j), &secs, &nanos))
        return bad(c, "invalid timestamp \"" SHOWN "\" (want RFC 3339, e.g. 2026-11-26T13:04:05Z)",
                   json_string_value(j));
    Google__Protobuf__Timestamp *ts = pb_new_of(google__protobuf__timestamp);
    if (!ts)
        return oom(c);
    ts->seconds = secs;
    ts->nanos = nanos;
    *out = &ts->base;
    return CORE_OK;
}

static core_status dec_struct(struct ctx *c, json_t *j, ProtobufCMessage **out)
{
    if (!json_is_object(j))
        return bad(c, "expected an object, got %s", json_kind(j));
    Google__Protobuf__Struct *s = pb_new_of(google__protobuf__struct);
    if (!s)
        return oom(c);
    core_status st = CORE_OK;
    size_t n = json_object_size(j);
    if (n > 0) {
        if ((s->fields = core_calloc(n, sizeof *s->fields)))
            s->n_fields = n;
        else
            st = oom(c);
    }
    size_t i = 0;
    const char *key;
    json_t *jv;
    json_object_foreach(j, key, jv)
    {
        if (st != CORE_OK)
            break;
        size_t mark = path_key(c, key);
        Google__Protobuf__Struct__FieldsEntry *e =
            pb_new_of(google__protobuf__struct__fields_entry);
        if (!e) {
            st = oom(c);
            break;
        }
        s->fields[i++] = e;
        if (!(e->key = core_strdup(key))) {
            e->key = (char *)protobuf_c_empty_string;
            st = oom(c);
            break;
        }
        ProtobufCMessage *v = NULL;
        if ((st = dec_pbvalue(c, jv, &v)) != CORE_OK)
            break;
        e->value = (Google__Protobuf__Value *)v;
        path_pop(c, mark);
    }
    if (st != CORE_OK) {
        pb_free(&s->base);
        return st;
    }
    *out = &s->base;
    return CORE_OK;
}

static core_status dec_listvalue(struct ctx *c, json_t *j, ProtobufCMessage **out)
{
    if (!json_is_array(j))
        return bad(c, "expected an array, got %s", json_kind(j));
    Google__Protobuf__ListValue *l = pb_new_of(google__protobuf__list_value);
    if (!l)
        return oom(c);
    core_status st = CORE_OK;
    size_t n = json_array_size(j);
    if (n > 0) {
        if ((l->values = core_calloc(n, sizeof *l->values)))
            l->n_values = n;
        else
            st = oom(c);
    }
    for (size_t i = 0; st == CORE_OK && i < n; i++) {
        size_t mark = path_index(c, i);
        ProtobufCMessage *v = NULL;
        if ((st = dec_pbvalue(c, json_array_get(j, i), &v)) == CORE_OK) {
            l->values[i] = (Google__Protobuf__Value *)v;
            path_pop(c, mark);
        }
    }
    if (st != CORE_OK) {
        pb_free(&l->base);
        return st;
    }
    *out = &l->base;
    return CORE_OK;
}

static core_status dec_pbvalue_at(struct ctx *c, json_t *j, ProtobufCMessage **out);

/* google.protobuf.Value: any JSON. */
static core_status dec_pbvalue(struct ctx *c, json_t *j, ProtobufCMessage **out)
{
    c->depth++;
    core_status st = too_deep(c) ? bad(c, "JSON nested deeper than %d levels", PBJSON_MAX_DEPTH)
                                 : dec_pbvalue_at(c, j, out);
    c->depth--;
    return st;
}

static core_status dec_pbvalue_at(struct ctx *c, json_t *j, ProtobufCMessage **out)
{
    Google__Protobuf__Value *v = pb_new_of(google__protobuf__value);
    if (!v)
        return oom(c);
    core_status st = CORE_OK;
    ProtobufCMessage *sub = NULL;
    switch (json_typeof(j)) {
    case JSON_NULL:
        v->null_value = GOOGLE__PROTOBUF__NULL_VALUE__NULL_VALUE;
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v->bool_value = json_is_true(j);
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        v->number_value = json_number_value(j);
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
        break;
    case JSON_STRING:
        if (!(v->string_value = core_strndup(json_string_value(j), json_string_length(j))))
            st = oom(c);
        else
            v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
        break;
    case JSON_OBJECT:
        if ((st = dec_struct(c, j, &sub)) == CORE_OK) {
            v->struct_value = (Google__Protobuf__Struct *)sub;
            v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
        }
        break;
    case JSON_ARRAY:
        if ((st = dec_listvalue(c, j, &sub)) == CORE_OK) {
            v->list_value = (Google__Protobuf__ListValue *)sub;
            v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
        }
        break;
    }
    if (st != CORE_OK) {
        pb_free(&v->base);
        return st;
    }
    *out = &v->base;
    return CORE_OK;
}

static core_status dec_message_at(struct ctx *c, const ProtobufCMessageDescriptor *desc, json_t *j,
                                  ProtobufCMessage **out);

static core_status dec_message(struct ctx *c, const ProtobufCMessageDescriptor *desc, json_t *j,
                               ProtobufCMessage **out)
{
    c->depth++;
    core_status st = too_deep(c) ? bad(c, "JSON nested deeper than %d levels", PBJSON_MAX_DEPTH)
                                 : dec_message_at(c, desc, j, out);
    c->depth--;
    return st;
}

static core_status dec_message_at(struct ctx *c, const ProtobufCMessageDescriptor *desc, json_t *j,
                                  ProtobufCMessage **out)
{
    if (msg_is(desc, WKT_TIMESTAMP))
        return dec_timestamp(c, j, out);
    if (msg_is(desc, WKT_STRUCT))
        return dec_struct(c, j, out);
    if (msg_is(desc, WKT_VALUE))
        return dec_pbvalue(c, j, out);
    if (msg_is(desc, WKT_LIST))
        return dec_listvalue(c, j, out);
    if (!json_is_object(j))
        return bad(c, "expected an object, got %s", json_kind(j));
    ProtobufCMessage *msg = pb_new(desc);
    if (!msg)
        return oom(c);
    core_status st = dec_fields(c, msg, j);
    if (st != CORE_OK) {
        pb_free(msg);
        return st;
    }
    *out = msg;
    return CORE_OK;
}

core_status pbjson_from_json(const ProtobufCMessageDescriptor *desc, json_t *obj,
                             ProtobufCMessage **out, core_err *err)
{
    struct ctx c = {.err = err};
    if (!obj)
        return core_err_set(err, CORE_ERR_INVALID, "no JSON value for %s", desc->name);
    ProtobufCMessage *msg = NULL;
    core_status st = dec_message(&c, desc, obj, &msg);
    if (st == CORE_OK && !pb_depth_ok(msg, PB_MAX_DEPTH)) {
        pb_free(msg);
        return core_err_set(err, CORE_ERR_INVALID, "%s: messages nested deeper than %d levels",
                            desc->name, PB_MAX_DEPTH);
    }
    if (st == CORE_OK)
        *out = msg;
    return st;
}

/* The deepest nesting of arrays and objects in JSON text, scanned without recursion and stopping
 * as soon as it passes max (strings are skipped, so brackets inside them do not count). Malformed
 * text is measured as far as it goes: jansson never nests deeper than this before it fails. */
static int json_text_depth(const char *s, size_t n, int max)
{
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < n && deepest <= max; i++) {
        char ch = s[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > deepest)
                deepest = depth;
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

core_status pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                          ProtobufCMessage **out, core_err *err)
{
    size_t i = 0;
    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\r' || json[i] == '\n'))
        i++;
    if (i == len) { /* empty body = {} */
        ProtobufCMessage *msg = pb_new(desc);
        if (!msg)
            return core_err_set(err, CORE_ERR_NOMEM, "out of memory transcoding JSON");
        *out = msg;
        return CORE_OK;
    }
    /* jansson parses recursively, up to 2,048 levels: far more than a 100 KiB request thread holds
     */
    if (json_text_depth(json, len, PBJSON_MAX_DEPTH) > PBJSON_MAX_DEPTH)
        return core_err_set(err, CORE_ERR_INVALID, "JSON nested deeper than %d levels",
                            PBJSON_MAX_DEPTH);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) {
        core_err_set(err, CORE_ERR_INVALID, "invalid JSON at line %d, column %d: %s", je.line,
                     je.column, je.text);
        if (err) /* jansson quotes the input near the error, cut anywhere */
            pbjson_make_utf8(err->msg);
        return CORE_ERR_INVALID;
    }
    core_status st;
    if (!json_is_object(root))
        st = core_err_set(err, CORE_ERR_INVALID, "expected a JSON object for %s, got %s",
                          desc->name, json_kind(root));
    else
        st = pbjson_from_json(desc, root, out, err);
    json_decref(root);
    return st;
}

core_status pbjson_check_text_field(const ProtobufCMessageDescriptor *desc, const char *field_name,
                                    core_err *err)
{
    const ProtobufCFieldDescriptor *f = pbjson_find_field(desc, field_name);
    if (!f)
        return core_err_set(err, CORE_ERR_INVALID, "unknown field \"%s\" in %s", field_name,
                            desc->name);
    if (f->label == PROTOBUF_C_LABEL_REPEATED || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return core_err_set(err, CORE_ERR_INVALID, "field \"%s\" of %s cannot be set from text",
                            field_name, desc->name);
    return CORE_OK;
}

core_status pbjson_set_field_text(ProtobufCMessage *msg, const char *field_name, const char *text,
                                  core_err *err)
{
    core_status st = pbjson_check_text_field(msg->descriptor, field_name, err);
    if (st != CORE_OK)
        return st;
    const ProtobufCFieldDescriptor *f = pbjson_find_field(msg->descriptor, field_name);
    struct ctx c = {.err = err, .text = true};
    path_name(&c, field_name);
    union val v;
    if ((st = dec_text(&c, f->type, f->descriptor, text, strlen(text), &v)) == CORE_OK)
        store_singular(msg, f, &v);
    return st;
}

/* ==== encoding: message -> JSON ================================================================
 */

static core_status enc_message(struct ctx *c, const ProtobufCMessage *m, json_t **out);

static core_status made(struct ctx *c, json_t *j, json_t **out)
{
    if (!j)
        return oom(c);
    *out = j;
    return CORE_OK;
}

static core_status enc_real(struct ctx *c, double d, bool is_float, json_t **out)
{
    char buf[64];
    if (isnan(d))
        return made(c, json_string("NaN"), out);
    if (isinf(d))
        return made(c, json_string(d > 0 ? "Infinity" : "-Infinity"), out);
    if (is_float) { /* the double nearest to the float's shortest text: 9.99f is written 9.99 */
        fmt_real(d, true, buf);
        d = strtod(buf, NULL);
    }
    return made(c, json_real(d), out);
}

static core_status enc_string(struct ctx *c, const char *s, size_t n, json_t **out)
{
    if (!utf8_valid((const unsigned char *)s, n))
        return bad(c, "string is not valid UTF-8");
    return made(c, json_stringn_nocheck(s, n), out);
}

/* A value of type t stored at p. */
static core_status enc_value(struct ctx *c, ProtobufCType t, const void *desc, const void *p,
                             json_t **out)
{
    char buf[32];
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return made(c, json_integer(*(const int32_t *)p), out);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return made(c, json_integer(*(const uint32_t *)p), out);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(buf, sizeof buf, "%" PRId64, *(const int64_t *)p);
        return made(c, json_string(buf), out);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(buf, sizeof buf, "%" PRIu64, *(const uint64_t *)p);
        return made(c, json_string(buf), out);
    case PROTOBUF_C_TYPE_FLOAT:
        return enc_real(c, *(const float *)p, true, out);
    case PROTOBUF_C_TYPE_DOUBLE:
        return enc_real(c, *(const double *)p, false, out);
    case PROTOBUF_C_TYPE_BOOL:
        return made(c, json_boolean(*(const protobuf_c_boolean *)p), out);
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = desc;
        int32_t e = *(const int32_t *)p;
        if (strcmp(ed->name, WKT_NULL) == 0)
            return made(c, json_null(), out);
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, e);
        return made(c, ev ? json_string(ev->name) : json_integer(e), out);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s ? enc_string(c, s, strlen(s), out) : made(c, json_string(""), out);
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        size_t n;
        char *text = b64_encode(b->data, b->len, &n);
        if (!text)
            return oom(c);
        core_status st = made(c, json_stringn_nocheck(text, n), out);
        core_free(text);
        return st;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        return m ? enc_message(c, m, out) : made(c, json_null(), out);
    }
    }
    return bad(c, "unknown field type %d", (int)t);
}

/* Adds val (reference taken, also on failure) under key. */
static core_status put(struct ctx *c, json_t *obj, const char *key, json_t *val)
{
    return json_object_set_new(obj, key, val) == 0 ? CORE_OK : oom(c);
}

static core_status enc_map(struct ctx *c, const ProtobufCFieldDescriptor *f, const void *member,
                           size_t n, json_t **out)
{
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
    ProtobufCMessage *const *entries = *(ProtobufCMessage *const *const *)member;
    json_t *obj = json_object();
    core_status st = obj ? CORE_OK : oom(c);
    for (size_t i = 0; st == CORE_OK && i < n; i++) {
        const ProtobufCMessage *e = entries[i];
        if (!e)
            continue;
        char kbuf[32];
        const char *key = kbuf;
        const void *kp = member_of(e, kf->offset);
        switch (kf->type) {
        case PROTOBUF_C_TYPE_STRING:
            key = *(char *const *)kp ? *(char *const *)kp : "";
            break;
        case PROTOBUF_C_TYPE_BOOL:
            key = *(const protobuf_c_boolean *)kp ? "true" : "false";
            break;
        default:
            switch (int_kind(kf->type)) {
            case IK_I32:
                snprintf(kbuf, sizeof kbuf, "%" PRId32, *(const int32_t *)kp);
                break;
            case IK_U32:
                snprintf(kbuf, sizeof kbuf, "%" PRIu32, *(const uint32_t *)kp);
                break;
            case IK_I64:
                snprintf(kbuf, sizeof kbuf, "%" PRId64, *(const int64_t *)kp);
                break;
            default:
                snprintf(kbuf, sizeof kbuf, "%" PRIu64, *(const uint64_t *)kp);
                break;
            }
        }
        if (!utf8_valid((const unsigned char *)key, strlen(key))) {
            st = bad(c, "map key is not valid UTF-8");
            break;
        }
        size_t mark = path_key(c, key);
        json_t *jv = NULL;
        const void *vp = member_of(e, vf->offset);
        ProtobufCMessage *def = NULL;
        if (vf->type == PROTOBUF_C_TYPE_MESSAGE && !*(ProtobufCMessage *const *)vp &&
            !is_value_msg(vf->type, vf->descriptor)) {
            /* an entry without its message value stands for the empty message */
            if (!(def = pb_new(vf->descriptor)))
                st = oom(c);
            else
                vp = &def;
        }
        if (st == CORE_OK)
            st = enc_value(c, vf->type, vf->descriptor, vp, &jv);
        pb_free(def);
        if (st == CORE_OK)
            st = put(c, obj, key, jv);
        if (st == CORE_OK)
            path_pop(c, mark);
    }
    if (st != CORE_OK) {
        json_decref(obj);
        return st;
    }
    *out = obj;
    return CORE_OK;
}

static core_status enc_field(struct ctx *c, const ProtobufCMessage *m,
                             const ProtobufCFieldDescriptor *f, json_t **out)
{
    const void *member = member_of(m, f->offset);
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(const size_t *)member_of(m, f->quantifier_offset);
        if (is_map(m->descriptor, f))
            return enc_map(c, f, member, n, out);
        const char *arr = *(const char *const *)member;
        size_t es = elt_size(f->type);
        json_t *list = json_array();
        core_status st = list ? CORE_OK : oom(c);
        for (size_t i = 0; st == CORE_OK && i < n; i++) {
            size_t mark = path_index(c, i);
            json_t *jv = NULL;
            if ((st = enc_value(c, f->type, f->descriptor, arr + i * es, &jv)) == CORE_OK &&
                (st = json_array_append_new(list, jv) == 0 ? CORE_OK : oom(c)) == CORE_OK)
                path_pop(c, mark);
        }
        if (st != CORE_OK) {
            json_decref(list);
            return st;
        }
        *out = list;
        return CORE_OK;
    }
    if (has_flag(f) && !*(const protobuf_c_boolean *)member_of(m, f->quantifier_offset))
        return made(c, json_null(), out);
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type == PROTOBUF_C_TYPE_STRING &&
        !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && !*(char *const *)member)
        return made(c, json_null(), out);
    return enc_value(c, f->type, f->descriptor, member, out);
}

static core_status enc_timestamp(struct ctx *c, const Google__Protobuf__Timestamp *ts, json_t **out)
{
    char buf[PBJSON_TIMESTAMP_MAX];
    if (pbjson_timestamp_format(ts->seconds, ts->nanos, buf, NULL) != CORE_OK)
        return bad(
            c, "timestamp %" PRId64 "s %" PRId32 "ns is outside 0001-01-01..9999-12-31 (RFC 3339)",
            ts->seconds, ts->nanos);
    return made(c, json_string(buf), out);
}

static core_status enc_pbvalue(struct ctx *c, const Google__Protobuf__Value *v, json_t **out);

static core_status enc_struct(struct ctx *c, const Google__Protobuf__Struct *s, json_t **out)
{
    json_t *obj = json_object();
    core_status st = obj ? CORE_OK : oom(c);
    for (size_t i = 0; st == CORE_OK && i < s->n_fields; i++) {
        const Google__Protobuf__Struct__FieldsEntry *e = s->fields[i];
        if (!e)
            continue;
        const char *key = e->key ? e->key : "";
        if (!utf8_valid((const unsigned char *)key, strlen(key))) {
            st = bad(c, "map key is not valid UTF-8");
            break;
        }
        size_t mark = path_key(c, key);
        json_t *jv = NULL;
        if ((st = enc_pbvalue(c, e->value, &jv)) == CORE_OK &&
            (st = put(c, obj, key, jv)) == CORE_OK)
            path_pop(c, mark);
    }
    if (st != CORE_OK) {
        json_decref(obj);
        return st;
    }
    *out = obj;
    return CORE_OK;
}

static core_status enc_listvalue(struct ctx *c, const Google__Protobuf__ListValue *l, json_t **out)
{
    json_t *arr = json_array();
    core_status st = arr ? CORE_OK : oom(c);
    for (size_t i = 0; st == CORE_OK && i < l->n_values; i++) {
        size_t mark = path_index(c, i);
        json_t *jv = NULL;
        if ((st = enc_pbvalue(c, l->values[i], &jv)) == CORE_OK &&
            (st = json_array_append_new(arr, jv) == 0 ? CORE_OK : oom(c)) == CORE_OK)
            path_pop(c, mark);
    }
    if (st != CORE_OK) {
        json_decref(arr);
        return st;
    }
    *out = arr;
    return CORE_OK;
}

/* NULL or a Value with no kind set is written as null. */
static core_status enc_pbvalue(struct ctx *c, const Google__Protobuf__Value *v, json_t **out)
{
    if (!v)
        return made(c, json_null(), out);
    switch (v->kind_case) {
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
        if (!isfinite(v->number_value))
            return bad(c, "a google.protobuf.Value cannot hold NaN or Infinity");
        return made(c, json_real(v->number_value), out);
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
        return v->string_value ? enc_string(c, v->string_value, strlen(v->string_value), out)
                               : made(c, json_string(""), out);
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
        return made(c, json_boolean(v->bool_value), out);
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE:
        if (!v->struct_value)
            return made(c, json_object(), out);
        return enc_struct(c, v->struct_value, out);
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE:
        if (!v->list_value)
            return made(c, json_array(), out);
        return enc_listvalue(c, v->list_value, out);
    default:
        return made(c, json_null(), out);
    }
}

static core_status enc_message(struct ctx *c, const ProtobufCMessage *m, json_t **out)
{
    const ProtobufCMessageDescriptor *desc = m->descriptor;
    if (msg_is(desc, WKT_TIMESTAMP))
        return enc_timestamp(c, (const Google__Protobuf__Timestamp *)m, out);
    if (msg_is(desc, WKT_STRUCT))
        return enc_struct(c, (const Google__Protobuf__Struct *)m, out);
    if (msg_is(desc, WKT_VALUE))
        return enc_pbvalue(c, (const Google__Protobuf__Value *)m, out);
    if (msg_is(desc, WKT_LIST))
        return enc_listvalue(c, (const Google__Protobuf__ListValue *)m, out);
    json_t *obj = json_object();
    core_status st = obj ? CORE_OK : oom(c);
    for (unsigned i = 0; st == CORE_OK && i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)member_of(m, f->quantifier_offset) != f->id)
            continue; /* of a oneof only the member that is set */
        char name[128];
        const char *key = json_name(f->name, name, sizeof name);
        size_t mark = path_name(c, key);
        json_t *jv = NULL;
        if ((st = enc_field(c, m, f, &jv)) == CORE_OK && (st = put(c, obj, key, jv)) == CORE_OK)
            path_pop(c, mark);
    }
    if (st != CORE_OK) {
        json_decref(obj);
        return st;
    }
    *out = obj;
    return CORE_OK;
}

core_status pbjson_to_json(const ProtobufCMessage *msg, json_t **out, core_err *err)
{
    struct ctx c = {.err = err};
    if (!pb_depth_ok(msg, PB_MAX_DEPTH)) /* enc_* recurse once per level */
        return core_err_set(err, CORE_ERR_INVALID, "message %s nests deeper than %d levels",
                            msg->descriptor->name, PB_MAX_DEPTH);
    return enc_message(&c, msg, out);
}

/* ==== serialiser ===============================================================================
 */

/* The text goes into a core_buf, whose failure is sticky: the writers add without checking and
 * pbjson_dump() checks once, at the end. */
struct sbuf {
    struct core_buf text;
    bool too_deep; /* a value nested deeper than PBJSON_MAX_DEPTH: nothing more is written */
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    core_buf_add(&b->text, s, n);
}

static void sb_str(struct sbuf *b, const char *s)
{
    core_buf_add_str(&b->text, s);
}

static void dump_string(struct sbuf *b, const char *s, size_t n)
{
    sb_add(b, "\"", 1);
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        sb_add(b, s + run, i - run);
        run = i + 1;
        switch (ch) {
        case '"':
            sb_str(b, "\\\"");
            break;
        case '\\':
            sb_str(b, "\\\\");
            break;
        case '\n':
            sb_str(b, "\\n");
            break;
        case '\r':
            sb_str(b, "\\r");
            break;
        case '\t':
            sb_str(b, "\\t");
            break;
        case '\b':
            sb_str(b, "\\b");
            break;
        case '\f':
            sb_str(b, "\\f");
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            sb_str(b, esc);
        }
    }
    sb_add(b, s + run, n - run);
    sb_add(b, "\"", 1);
}

static void dump_value(struct sbuf *b, const json_t *j, int depth)
{
    char buf[64];
    if (b->too_deep)
        return;
    if ((json_is_object(j) || json_is_array(j)) && depth >= PBJSON_MAX_DEPTH) {
        b->too_deep = true;
        return;
    }
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *v;
        bool first = true;
        sb_add(b, "{", 1);
        json_object_foreach((json_t *)j, key, v)
        {
            if (!first)
                sb_add(b, ",", 1);
            first = false;
            dump_string(b, key, strlen(key));
            sb_add(b, ":", 1);
            dump_value(b, v, depth + 1);
        }
        sb_add(b, "}", 1);
        break;
    }
    case JSON_ARRAY:
        sb_add(b, "[", 1);
        for (size_t i = 0; i < json_array_size(j); i++) {
            if (i > 0)
                sb_add(b, ",", 1);
            dump_value(b, json_array_get(j, i), depth + 1);
        }
        sb_add(b, "]", 1);
        break;
    case JSON_STRING:
        dump_string(b, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        sb_str(b, buf);
        break;
    case JSON_REAL:
        fmt_double(json_real_value(j), buf);
        sb_str(b, buf);
        break;
    case JSON_TRUE:
        sb_str(b, "true");
        break;
    case JSON_FALSE:
        sb_str(b, "false");
        break;
    case JSON_NULL:
        sb_str(b, "null");
        break;
    }
}

core_status pbjson_dump(const json_t *json, char **out, size_t *out_len, core_err *err)
{
    struct sbuf b = {CORE_BUF_INIT, false};
    if (!json)
        return core_err_set(err, CORE_ERR_INVALID, "no JSON value to serialise");
    dump_value(&b, json, 0);
    if (b.too_deep) {
        core_buf_release(&b.text);
        return core_err_set(err, CORE_ERR_INVALID, "JSON nested deeper than %d levels",
                            PBJSON_MAX_DEPTH);
    }
    char *text = core_buf_detach(&b.text, out_len);
    if (!text)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory serialising JSON");
    *out = text;
    return CORE_OK;
}

core_status pbjson_encode(const ProtobufCMessage *msg, char **out, core_err *err)
{
    json_t *j = NULL;
    core_status st = pbjson_to_json(msg, &j, err);
    if (st == CORE_OK) {
        st = pbjson_dump(j, out, NULL, err);
        json_decref(j);
    }
    return st;
}
