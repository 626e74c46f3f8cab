/* pbfill.c -- see pbfill.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "pb.h"
#include "pbfill.h"

static bool fill(ProtobufCMessage *m, int depth, int salt);

/* Writes one sample value of field f into the storage at p. */
/* index: element of a repeated field; salt: element index of the enclosing message, so that the
 * elements of repeated messages (and map entries, whose keys must differ) are all distinct. */
static bool fill_value(const ProtobufCFieldDescriptor *f, void *p, int depth, int index, int salt)
{
    unsigned n = f->id + (unsigned)index;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *(int32_t *)p = -(int32_t)n * 3;
        return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)p = n * 5;
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)p = -(int64_t)n * 1000000007LL;
        return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)p = (uint64_t)n * 9000000011ULL;
        return true;
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)p = (float)n + 0.25f;
        return true;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)p = (double)n + 0.99;
        return true;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)p = 1;
        return true;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        *(int *)p = e->values[e->n_values - 1].value;
        return true;
    }
    case PROTOBUF_C_TYPE_STRING: {
        char buf[96];
        snprintf(buf, sizeof buf, "v-%s-%d.%d \"q\" \xc3\xa9", f->name, salt, index);
        return (*(char **)p = core_strdup(buf)) != NULL;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *b = p;
        b->len = 3;
        b->data = core_malloc(3);
        if (!b->data)
            return false;
        memcpy(b->data, "\x00\xff\x10", 3);
        return true;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *sub = pb_new(f->descriptor);
        if (!sub)
            return false;
        *(ProtobufCMessage **)p = sub;
        if (f->descriptor == &google__protobuf__timestamp__descriptor) {
            /* a time the JSON mapping can carry: 2025-11-24T16:00:00Z plus a few seconds, and
             * nanoseconds within 0..999999999 (the field-number values would be negative) */
            Google__Protobuf__Timestamp *t = (Google__Protobuf__Timestamp *)sub;
            t->seconds = 1764000000 + (int64_t)n * 61 + salt;
            t->nanos = 123456789 + (int32_t)n;
            return true;
        }
        return fill(sub, depth - 1, salt * 2 + index + 1);
    }
    }
    return false;
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

static bool fill(ProtobufCMessage *m, int depth, int salt)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    char *base = (char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth <= 0)
            continue; /* leave deep sub-messages unset (null in JSON) */
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            /* set only the first member of each oneof */
            uint32_t *qcase = (uint32_t *)(base + f->quantifier_offset);
            if (*qcase != 0)
                continue;
            *qcase = f->id;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t sz = value_size(f);
            void *arr = core_calloc(2, sz);
            if (!arr)
                return false;
            *(void **)(base + f->offset) = arr;
            *(size_t *)(base + f->quantifier_offset) = 2;
            for (int k = 0; k < 2; k++)
                if (!fill_value(f, (char *)arr + (size_t)k * sz, depth, k, salt))
                    return false;
        } else {
            if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
                !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
                *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
            if (!fill_value(f, base + f->offset, depth, 0, salt))
                return false;
        }
    }
    return true;
}

ProtobufCMessage *pbfill_new(const ProtobufCMessageDescriptor *desc, int max_depth)
{
    ProtobufCMessage *m = pb_new(desc);
    if (m && !fill(m, max_depth, 0)) {
        pb_free(m);
        return NULL;
    }
    return m;
}
