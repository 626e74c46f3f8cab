/* monolith.c -- see monolith.h. */
#include "monolith/monolith.h"

core_status monolith_rpc_client(const struct monolith *mono, rpc_client **out, core_err *err)
{
    return rpc_client_new(out, mono->cfg.rpc_host, mono->cfg.rpc_port, MONOLITH_RPC_TIMEOUT_MS,
                          err);
}
