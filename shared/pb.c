/* pb.c -- see pb.h. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pb.h"

static void *alloc_fn(void *data, size_t size)
{
    (void)data;
    return core_malloc(size);
}

static void free_fn(void *data, void *p)
{
    (void)data;
    core_free(p);
}

ProtobufCAllocator pb_allocator = {alloc_fn, free_fn, NULL};

ProtobufCMessage *pb_new(const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = core_calloc(1, desc->sizeof_message);
    if (m)
        desc->message_init(m);
    return m;
}

void pb_free(ProtobufCMessage *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, &pb_allocator);
}

bool pb_depth_ok(const ProtobufCMessage *msg, int max)
{
    if (max < 1)
        return false;
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *member = (const char *)msg + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
            ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)member;
            for (size_t k = 0; k < n; k++)
                if (arr[k] && !pb_depth_ok(arr[k], max - 1))
                    return false;
        } else {
            if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                *(const uint32_t *)((const char *)msg + f->quantifier_offset) != f->id)
                continue; /* another member of the oneof owns the storage */
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
            if (sub && !pb_depth_ok(sub, max - 1))
                return false;
        }
    }
    return true;
}

core_status pb_pack(const ProtobufCMessage *msg, unsigned char **out, size_t *out_len,
                    core_err *err)
{
    if (!pb_depth_ok(msg, PB_MAX_DEPTH))
        return core_err_set(err, CORE_ERR_INVALID, "message %s nests deeper than %d levels",
                            msg->descriptor->name, PB_MAX_DEPTH);
    size_t len = protobuf_c_message_get_packed_size(msg);
    unsigned char *buf = core_malloc(len);
    if (!buf)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory packing %s", msg->descriptor->name);
    protobuf_c_message_pack(msg, buf);
    *out = buf;
    *out_len = len;
    return CORE_OK;
}

/* ---- checking the strings of packed data --------------------------------------------------- */

/* Reads a varint at *p (before end); false when it is cut off or longer than 10 bytes. */
static bool read_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
        unsigned char b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Reads one field at *p: its number, and for a length-delimited value where its bytes are (*val,
 * *len; *val is NULL for other wire types). false when the data is malformed, or uses groups,
 * which protobuf-c does not read either. */
static bool read_field(const unsigned char **p, const unsigned char *end, uint32_t *number,
                       const unsigned char **val, size_t *len)
{
    uint64_t tag, n;
    *val = NULL;
    if (!read_varint(p, end, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
        return false;
    *number = (uint32_t)(tag >> 3);
    switch (tag & 7) {
    case 0: /* varint */
        return read_varint(p, end, &n);
    case 1: /* 64 bits */
        if (end - *p < 8)
            return false;
        *p += 8;
        return true;
    case 5: /* 32 bits */
        if (end - *p < 4)
            return false;
        *p += 4;
        return true;
    case 2: /* length-delimited */
        if (!read_varint(p, end, &n) || n > (uint64_t)(end - *p))
            return false;
        *val = *p;
        *len = (size_t)n;
        *p += n;
        return true;
    default:
        return false;
    }
}

/* Length of the valid UTF-8 sequence at s (n > 0 bytes available), 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* NULL when the n bytes at s are valid text for a string field, else what is wrong. */
static const char *text_problem(const unsigned char *s, size_t n)
{
    if (memchr(s, '\0', n))
        return "string contains a NUL character";
    for (size_t i = 0, k; i < n; i += k) {
        if ((k = utf8_seq(s + i, n - i)) == 0)
            return "string is not valid UTF-8";
    }
    return NULL;
}

/* One message being walked: its type, its bytes and how far they are read; for a nested one the
 * field of its parent that holds it and where that field's tag starts in the parent's bytes. */
struct walk_frame {
    const ProtobufCMessageDescriptor *desc;
    const unsigned char *start, *pos, *end;
    const ProtobufCFieldDescriptor *field;
    const unsigned char *tag_at;
};

/* The index of the element of repeated field number that starts at tag_at, among the fields
 * in [start, tag_at) (which were read once already, so they are well formed). */
static size_t element_index(const unsigned char *start, const unsigned char *tag_at,
                            uint32_t number)
{
    size_t index = 0;
    const unsigned char *p = start, *val;
    uint32_t n;
    size_t len;
    while (p < tag_at && read_field(&p, tag_at, &n, &val, &len))
        index += n == number;
    return index;
}

/* Appends one step of a field path ("name" or "name[i]", after a '.' unless first) to buf. */
static void path_step(char *buf, size_t size, const ProtobufCFieldDescriptor *f,
                      const unsigned char *start, const unsigned char *tag_at)
{
    size_t used = strlen(buf);
    if (used + 1 >= size)
        return;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        snprintf(buf + used, size - used, "%s%s[%zu]", used ? "." : "", f->name,
                 element_index(start, tag_at, f->id));
    else
        snprintf(buf + used, size - used, "%s%s", used ? "." : "", f->name);
}

/* The check of pb_unpack() (pb.h): walks data with an explicit stack of PB_MAX_DEPTH + 1
 * frames. Malformed data is reported as such here, so protobuf-c never reads what fails. */
static core_status check_packed(const ProtobufCMessageDescriptor *desc, const unsigned char *data,
                                size_t len, core_err *err)
{
    struct walk_frame stack[PB_MAX_DEPTH + 1];
    int depth = 0;
    stack[0] = (struct walk_frame){desc, data, data, data + len, NULL, NULL};
    while (depth >= 0) {
        struct walk_frame *fr = &stack[depth];
        if (fr->pos >= fr->end) {
            depth--;
            continue;
        }
        const unsigned char *tag_at = fr->pos, *val;
        uint32_t number;
        size_t n;
        if (!read_field(&fr->pos, fr->end, &number, &val, &n))
            return core_err_set(err, CORE_ERR_INVALID, "malformed protobuf data for %s",
                                desc->name);
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(fr->desc, (unsigned)number);
        if (!val || !f) /* not length-delimited, or unknown: nothing to check */
            continue;
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            const char *problem = text_problem(val, n);
            if (!problem)
                continue;
            char path[256] = "";
            for (int i = 1; i <= depth; i++)
                path_step(path, sizeof path, stack[i].field, stack[i - 1].start, stack[i].tag_at);
            path_step(path, sizeof path, f, fr->start, tag_at);
            return core_err_set(err, CORE_ERR_INVALID, "field \"%s\": %s", path, problem);
        }
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;                 /* bytes, packed numbers */
        if (depth + 2 > PB_MAX_DEPTH) /* stack[depth] is level depth + 1 */
            return core_err_set(err, CORE_ERR_INVALID,
                                "protobuf data for %s nests messages deeper than %d levels",
                                desc->name, PB_MAX_DEPTH);
        stack[++depth] = (struct walk_frame){f->descriptor, val, val, val + n, f, tag_at};
    }
    return CORE_OK;
}

core_status pb_unpack(const ProtobufCMessageDescriptor *desc, const unsigned char *data, size_t len,
                      ProtobufCMessage **out, core_err *err)
{
    core_status st = check_packed(desc, data, len, err);
    if (st)
        return st;
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &pb_allocator, len, data);
    if (!m)
        return core_err_set(err, CORE_ERR_INVALID, "malformed protobuf data for %s", desc->name);
    *out = m;
    return CORE_OK;
}

core_status pb_set_string(char **field, const char *value, core_err *err)
{
    char *copy = core_strdup(value ? value : "");
    if (!copy)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory");
    if (*field && *field != protobuf_c_empty_string)
        core_free(*field);
    *field = copy;
    return CORE_OK;
}
