/* cache_fakes.h -- test support (chapter 07): in-memory fakes of the caches the integration event
 * handlers write, for the baskets, depot, notifications and search handlers (handlers.h of each
 * module).
 *
 * Layer: test support (the chapter's tests/support/). One struct cache_fake records the calls of
 * whichever ports are filled with it, as text, one entry per call separated by spaces, e.g.
 *     "stores.add(s-1,Waldorf Books,1) stores.rename(s-1,Waldorf & Co,2)"
 * (prices with 2 decimals, a location or SMS number after the name). fail other than CORE_OK
 * makes the next fail_times calls (all when fail_times is 0) fail with it and "fake cache
 * failure", without recording them.
 *
 * Caller storage, zeroed before use (= {0}). Thread-safety: none; one test thread.
 */
#ifndef CACHE_FAKES_H
#define CACHE_FAKES_H

#include "baskets/handlers.h"
#include "depot/handlers.h"
#include "notifications/handlers.h"
#include "search/handlers.h"

struct cache_fake {
    char log[2048];
    int calls; /* recorded (successful) calls */
    core_status fail;
    int fail_times;
};

void cache_fake_baskets(struct baskets_cache_handlers *out, struct cache_fake *f);
void cache_fake_depot(struct depot_cache_handlers *out, struct cache_fake *f);
void cache_fake_customers(struct notifications_customer_cache *out, struct cache_fake *f);
/* search's three caches; a customer is recorded as "customers.add(id,name,seq)". */
void cache_fake_search(struct search_cache_handlers *out, struct cache_fake *f);

#endif /* CACHE_FAKES_H */
