#!/usr/bin/env python3
"""slowclients.py -- hold slow and idle connections open on the program's two ports and measure
how ordinary requests fare meanwhile.

A "slow" connection sends a request line and then one header line every --trickle seconds, never
finishing the header. An "idle" connection connects and sends nothing. The tool keeps --slow and
--idle of each open on the REST port and on the RPC port: when the server closes one, it counts
that (with how long the connection had lived) and opens a new one, as an attacker would. After a
short warm-up it sends ordinary requests one after another for --duration seconds, each on a new
connection with a --timeout, in turn:

  web  GET /api/stores                                     (REST port)
  xmod PUT /api/baskets/{id}/addItem                       (REST port; baskets calls stores by RPC)
  rpc  POST /rpc/storespb.StoresService/GetStores          (RPC port, empty protobuf request)

and prints per kind the count, the failures (time-outs, refused connections, statuses other than
200) and the latency p50 / p99 / max. Everything goes to 127.0.0.1 only; the run is bounded by
--duration. It creates a store, a product and a basket for the seed customer of chapters 03-05.

  scripts/slowclients.py --web-port 8080 --rpc-port 8085 --slow 200 --idle 200 --duration 30
"""
import argparse
import errno
import http.client
import json
import selectors
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
CUSTOMER = "f0e2d41a-a485-4008-b578-747732ae1089"


class Holder:
    """Keeps the slow and idle connections open from one thread (non-blocking sockets)."""

    def __init__(self, ports, nslow, nidle, trickle):
        self.sel = selectors.DefaultSelector()
        self.trickle = trickle
        self.want = [(p, "slow") for p in ports for _ in range(nslow)] + \
                    [(p, "idle") for p in ports for _ in range(nidle)]
        self.conns = {}          # socket -> dict
        self.closed = {}         # (port, kind) -> [lifetimes]
        self.opened = 0
        self.connect_errors = 0
        self.stop = threading.Event()
        self.pending = []        # (not_before, port, kind) waiting to be (re)opened

    def open(self, port, kind):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((HOST, port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            self.connect_errors += 1
            self.pending.append((time.monotonic() + 0.2, port, kind))
            return
        c = {"port": port, "kind": kind, "t0": time.monotonic(), "up": False, "next": 0.0, "n": 0}
        self.conns[s] = c
        self.sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ)
        self.opened += 1

    def drop(self, s, by_server):
        c = self.conns.pop(s)
        self.sel.unregister(s)
        s.close()
        if by_server:
            self.closed.setdefault((c["port"], c["kind"]), []).append(time.monotonic() - c["t0"])
        if not self.stop.is_set():
            self.pending.append((time.monotonic() + 0.05, c["port"], c["kind"]))

    def send(self, s, c, data):
        try:
            s.send(data)
            return True
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            self.drop(s, True)
            return False

    def run(self):
        for port, kind in self.want:
            self.open(port, kind)
        while not self.stop.is_set():
            now = time.monotonic()
            later = []
            for item in self.pending:
                if item[0] <= now:
                    self.open(item[1], item[2])
                else:
                    later.append(item)
            self.pending = later
            for key, ev in self.sel.select(timeout=0.1):
                s = key.fileobj
                c = self.conns.get(s)
                if c is None:
                    continue
                if not c["up"] and ev & selectors.EVENT_WRITE:
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                        self.connect_errors += 1
                        self.drop(s, False)
                        continue
                    c["up"] = True
                    self.sel.modify(s, selectors.EVENT_READ)
                    if c["kind"] == "slow":
                        c["next"] = now + self.trickle
                        if not self.send(s, c, b"GET /api/stores HTTP/1.1\r\nHost: 127.0.0.1\r\n"):
                            continue
                if ev & selectors.EVENT_READ:
                    try:
                        data = s.recv(4096)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        self.drop(s, True)
            now = time.monotonic()
            for s, c in list(self.conns.items()):
                if c["kind"] == "slow" and c["up"] and now >= c["next"]:
                    c["n"] += 1
                    c["next"] = now + self.trickle
                    self.send(s, c, b"X-Slow-%d: %d\r\n" % (c["n"], c["n"]))
        for s in list(self.conns):
            self.sel.unregister(s)
            s.close()
        self.conns.clear()

    def established(self):
        return sum(1 for c in self.conns.values() if c["up"])


def request(port, method, path, body, ctype, timeout):
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": ctype} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data, time.monotonic() - t0, None
    except (OSError, http.client.HTTPException) as e:
        return None, None, time.monotonic() - t0, type(e).__name__
    finally:
        conn.close()


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--web-port", type=int, default=8080)
    ap.add_argument("--rpc-port", type=int, default=8085)
    ap.add_argument("--slow", type=int, default=200, help="slow connections per port")
    ap.add_argument("--idle", type=int, default=200, help="idle connections per port")
    ap.add_argument("--trickle", type=float, default=5.0, help="seconds between a slow client's header lines")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds between opening them and measuring")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of measuring (at most 600)")
    ap.add_argument("--timeout", type=float, default=5.0, help="per ordinary request")
    ap.add_argument("--interval", type=float, default=0.02, help="pause between ordinary requests")
    a = ap.parse_args()
    a.duration = min(a.duration, 600.0)

    def create(path, body):
        st, data, _, err = request(a.web_port, "POST", path, json.dumps(body), "application/json", 10)
        if st != 200:
            sys.exit("slowclients: POST %s on port %d: %s %s" % (path, a.web_port, st or err, data))
        return json.loads(data)["id"]

    store = create("/api/stores", {"name": "Slow Shop", "location": "Hall"})
    product = create("/api/stores/%s/products" % store,
                     {"name": "Snail", "description": "", "sku": "S-1", "price": 1.5})
    basket = create("/api/baskets", {"customerId": CUSTOMER})
    kinds = [
        ("web", a.web_port, "GET", "/api/stores", None, None),
        ("xmod", a.web_port, "PUT", "/api/baskets/%s/addItem" % basket,
         json.dumps({"productId": product, "quantity": 1}), "application/json"),
        ("rpc", a.rpc_port, "POST", "/rpc/storespb.StoresService/GetStores", b"", "application/x-protobuf"),
    ]

    holder = Holder([a.web_port, a.rpc_port], a.slow, a.idle, a.trickle)
    th = threading.Thread(target=holder.run, daemon=True)
    th.start()
    time.sleep(a.warmup)
    held_at_start = holder.established()

    lat = {k[0]: [] for k in kinds}
    fails = {k[0]: {} for k in kinds}
    end = time.monotonic() + a.duration
    i = 0
    while time.monotonic() < end:
        name, port, method, path, body, ctype = kinds[i % len(kinds)]
        i += 1
        st, _, dt, err = request(port, method, path, body, ctype, a.timeout)
        if st == 200:
            lat[name].append(dt)
        else:
            why = err or str(st)
            fails[name][why] = fails[name].get(why, 0) + 1
        time.sleep(a.interval)
    held_at_end = holder.established()
    holder.stop.set()
    th.join(5)

    print("held connections: %d slow + %d idle per port on ports %d and %d, trickle every %.1f s"
          % (a.slow, a.idle, a.web_port, a.rpc_port, a.trickle))
    print("established: %d after warm-up, %d at the end (of %d)" % (held_at_start, held_at_end, len(holder.want)))
    for (port, kind), lives in sorted(holder.closed.items()):
        lives.sort()
        print("closed by the server: port %d %-4s %5d  lifetime p50 %.1f s max %.1f s"
              % (port, kind, len(lives), pct(lives, 50), lives[-1]))
    if not holder.closed:
        print("closed by the server: none")
    print("%-5s %6s %6s %9s %9s %9s  %s" % ("kind", "ok", "failed", "p50 ms", "p99 ms", "max ms", "failures"))
    total_fail = 0
    for name, *_ in kinds:
        v = sorted(lat[name])
        nf = sum(fails[name].values())
        total_fail += nf
        print("%-5s %6d %6d %9.1f %9.1f %9.1f  %s" % (
            name, len(v), nf, pct(v, 50) * 1000, pct(v, 99) * 1000, (v[-1] if v else float("nan")) * 1000,
            ", ".join("%s x%d" % kv for kv in sorted(fails[name].items())) or "-"))
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
