/* cache_fakes.c -- see cache_fakes.h. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cache_fakes.h"

/* Fails as set, or appends one entry; the text is formatted from fmt. */
static core_status record(struct cache_fake *f, core_err *err, const char *fmt, ...)
{
    if (f->fail) {
        core_status st = f->fail;
        if (f->fail_times > 0 && --f->fail_times == 0)
            f->fail = CORE_OK; /* the last planned failure */
        return core_err_set(err, st, "fake cache failure");
    }
    size_t len = strlen(f->log);
    if (len && len + 1 < sizeof f->log)
        f->log[len++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->log + len, sizeof f->log - len, fmt, ap);
    va_end(ap);
    f->calls++;
    return CORE_OK;
}

static core_status b_store_add(void *self, const char *id, const char *name, uint64_t seq,
                               core_err *err)
{
    return record(self, err, "stores.add(%s,%s,%" PRIu64 ")", id, name, seq);
}

static core_status b_store_rename(void *self, const char *id, const char *name, uint64_t seq,
                                  core_err *err)
{
    return record(self, err, "stores.rename(%s,%s,%" PRIu64 ")", id, name, seq);
}

static core_status b_product_add(void *self, const struct baskets_product *p, uint64_t seq,
                                 core_err *err)
{
    return record(self, err, "products.add(%s,%s,%s,%.2f,%" PRIu64 ")", p->id, p->store_id, p->name,
                  p->price, seq);
}

static core_status product_rebrand(void *self, const char *id, const char *name, uint64_t seq,
                                   core_err *err)
{
    return record(self, err, "products.rebrand(%s,%s,%" PRIu64 ")", id, name, seq);
}

static core_status b_product_set_price(void *self, const char *id, double price, uint64_t seq,
                                       core_err *err)
{
    return record(self, err, "products.set_price(%s,%.2f,%" PRIu64 ")", id, price, seq);
}

static core_status product_remove(void *self, const char *id, uint64_t seq, core_err *err)
{
    return record(self, err, "products.remove(%s,%" PRIu64 ")", id, seq);
}

void cache_fake_baskets(struct baskets_cache_handlers *out, struct cache_fake *f)
{
    out->stores.self = f;
    out->stores.add = b_store_add;
    out->stores.rename = b_store_rename;
    out->products.self = f;
    out->products.add = b_product_add;
    out->products.rebrand = product_rebrand;
    out->products.set_price = b_product_set_price;
    out->products.remove = product_remove;
}

static core_status d_store_add(void *self, const char *id, const char *name, const char *location,
                               uint64_t seq, core_err *err)
{
    return record(self, err, "stores.add(%s,%s,%s,%" PRIu64 ")", id, name, location, seq);
}

static core_status d_product_add(void *self, const char *id, const char *store_id, const char *name,
                                 uint64_t seq, core_err *err)
{
    return record(self, err, "products.add(%s,%s,%s,%" PRIu64 ")", id, store_id, name, seq);
}

void cache_fake_depot(struct depot_cache_handlers *out, struct cache_fake *f)
{
    out->stores.self = f;
    out->stores.add = d_store_add;
    out->stores.rename = b_store_rename;
    out->products.self = f;
    out->products.add = d_product_add;
    out->products.rebrand = product_rebrand;
    out->products.remove = product_remove;
}

static core_status c_add(void *self, const char *id, const char *name, const char *sms_number,
                         uint64_t seq, core_err *err)
{
    return record(self, err, "customers.add(%s,%s,%s,%" PRIu64 ")", id, name, sms_number, seq);
}

static core_status c_change_sms(void *self, const char *id, const char *sms_number, uint64_t seq,
                                core_err *err)
{
    return record(self, err, "customers.change_sms(%s,%s,%" PRIu64 ")", id, sms_number, seq);
}

void cache_fake_customers(struct notifications_customer_cache *out, struct cache_fake *f)
{
    out->self = f;
    out->add = c_add;
    out->change_sms = c_change_sms;
}

static core_status s_customer_add(void *self, const char *id, const char *name, uint64_t seq,
                                  core_err *err)
{
    return record(self, err, "customers.add(%s,%s,%" PRIu64 ")", id, name, seq);
}

void cache_fake_search(struct search_cache_handlers *out, struct cache_fake *f)
{
    out->customers.self = f;
    out->customers.add = s_customer_add;
    out->stores.self = f;
    out->stores.add = b_store_add;
    out->stores.rename = b_store_rename;
    out->products.self = f;
    out->products.add = d_product_add;
    out->products.rebrand = product_rebrand;
    out->products.remove = product_remove;
}
