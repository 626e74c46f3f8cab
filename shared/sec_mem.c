/* sec_mem.c -- the in-memory saga store (unit tests): each state kept as a copy, its data packed,
 * so what a test loads is what was saved, never an object the orchestrator still holds. A mutex
 * makes it thread-safe; sec_mem_store_fail_save() makes the next saves fail. */
#include <pthread.h>
#include <string.h>

#include "pb.h"
#include "sec.h"

struct mem_row {
    char *name;          /* the saga's name */
    struct sec_state st; /* data unused (NULL): packed below */
    unsigned char *data;
    size_t len;
};

struct mem_store {
    pthread_mutex_t mu;
    struct mem_row *rows;
    size_t n, cap;
    int fail_saves;
};

static struct mem_row *find(struct mem_store *m, const char *name, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->rows[i].name, name) == 0 && strcmp(m->rows[i].st.id, id) == 0)
            return &m->rows[i];
    return NULL;
}

static core_status mem_load(void *impl, const struct sec_saga *saga, const char *id,
                            struct sec_state *out, core_err *err)
{
    struct mem_store *m = impl;
    pthread_mutex_lock(&m->mu);
    core_status s = CORE_OK;
    struct mem_row *r = find(m, saga->name, id);
    if (!r) {
        s = core_err_set(err, CORE_ERR_NOT_FOUND, "saga %s %s not found", saga->name, id);
    } else {
        ProtobufCMessage *data = NULL;
        s = pb_unpack(saga->data_desc, r->data, r->len, &data, err);
        if (!s) {
            *out = r->st;
            out->data = data;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return s;
}

static core_status mem_save(void *impl, const struct sec_saga *saga, const struct sec_state *st,
                            core_err *err)
{
    struct mem_store *m = impl;
    unsigned char *data = NULL;
    size_t len = 0;
    core_status s = pb_pack(st->data, &data, &len, err);
    if (s)
        return s;
    pthread_mutex_lock(&m->mu);
    struct mem_row *r = NULL;
    if (m->fail_saves > 0) {
        m->fail_saves--;
        s = core_err_set(err, CORE_ERR_UNAVAILABLE,
                         "saga %s %s not saved: the store is down "
                         "(injected fault)",
                         saga->name, st->id);
    } else if (!(r = find(m, saga->name, st->id))) {
        char *name = core_strdup(saga->name);
        if (!name || core_array_grow(&m->rows, &m->cap, m->n + 1, sizeof *m->rows)) {
            core_free(name);
            s = core_err_nomem(err);
        } else {
            r = &m->rows[m->n++];
            *r = (struct mem_row){.name = name};
        }
    }
    if (r) {
        core_free(r->data);
        r->st = *st;
        r->st.data = NULL;
        r->data = data;
        r->len = len;
        data = NULL;
    }
    pthread_mutex_unlock(&m->mu);
    core_free(data);
    return s;
}

static void mem_free(void *impl)
{
    struct mem_store *m = impl;
    for (size_t i = 0; i < m->n; i++) {
        core_free(m->rows[i].name);
        core_free(m->rows[i].data);
    }
    core_free(m->rows);
    pthread_mutex_destroy(&m->mu);
    core_free(m);
}

static const struct sec_store_ops mem_ops = {
    .kind = "memory",
    .load = mem_load,
    .save = mem_save,
    .free = mem_free,
};

core_status sec_mem_store_new(sec_store **out, core_err *err)
{
    *out = NULL;
    struct mem_store *m = core_calloc(1, sizeof *m);
    if (!m)
        return core_err_nomem(err);
    pthread_mutex_init(&m->mu, NULL);
    return sec_store_new(out, &mem_ops, m, err);
}

void sec_mem_store_fail_save(sec_store *s, int count)
{
    struct mem_store *m = sec_store_impl(s, &mem_ops);
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->fail_saves = count;
    pthread_mutex_unlock(&m->mu);
}
