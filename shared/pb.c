/* pb.c -- see pb.h. */
#include <stdint.h>
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

/* Reads a varint at data[*i..len); false when it is cut or longer than 10 bytes. */
static bool wire_varint(const uint8_t *data, size_t len, size_t *i, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 70 && *i < len; shift += 7) {
        uint8_t b = data[(*i)++];
        *v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 63);
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* true unless the wire data of a desc message nests sub-messages more than max levels deep. Only
 * length-delimited fields that desc declares as messages are followed; anything malformed is left
 * for protobuf-c to refuse. Recursion is bounded by max. */
static bool wire_depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len, int max)
{
    if (max < 1)
        return false;
    size_t i = 0;
    while (i < len) {
        uint64_t key, n;
        if (!wire_varint(data, len, &i, &key))
            return true;
        switch (key & 7) {
        case 0:
            if (!wire_varint(data, len, &i, &n))
                return true;
            break;
        case 1:
            i += 8;
            break;
        case 5:
            i += 4;
            break;
        case 2: {
            if (!wire_varint(data, len, &i, &n) || n > len - i)
                return true;
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && !wire_depth_ok(f->descriptor, data + i, (size_t)n, max - 1))
                return false;
            i += (size_t)n;
            break;
        }
        default: /* groups and invalid wire types: protobuf-c refuses them */
            return true;
        }
    }
    return true;
}

core_status pb_pack(const ProtobufCMessage *msg, unsigned char **out, size_t *out_len, core_err *err)
{
    if (!pb_depth_ok(msg, PB_MAX_DEPTH))
        return core_err_set(err, CORE_ERR_INVALID, "message %s nests deeper than %d levels", msg->descriptor->name,
                            PB_MAX_DEPTH);
    size_t len = protobuf_c_message_get_packed_size(msg);
    unsigned char *buf = core_malloc(len);
    if (!buf)
        return core_err_set(err, CORE_ERR_NOMEM, "out of memory packing %s", msg->descriptor->name);
    protobuf_c_message_pack(msg, buf);
    *out = buf;
    *out_len = len;
    return CORE_OK;
}

core_status pb_unpack(const ProtobufCMessageDescriptor *desc, const unsigned char *data, size_t len,
                      ProtobufCMessage **out, core_err *err)
{
    if (!wire_depth_ok(desc, data, len, PB_MAX_DEPTH))
        return core_err_set(err, CORE_ERR_INVALID, "protobuf data for %s nests messages deeper than %d levels",
                            desc->name, PB_MAX_DEPTH);
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
