/* pb.c -- see pb.h. */
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

core_status pb_pack(const ProtobufCMessage *msg, unsigned char **out, size_t *out_len, core_err *err)
{
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
