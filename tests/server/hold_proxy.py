#!/usr/bin/env python3
"""A TCP proxy on one node-to-node path that can hold the answers.

Usage: hold_proxy.py LISTEN_PORT TARGET_PORT LOG

It forwards every connection made to 127.0.0.1:LISTEN_PORT to
127.0.0.1:TARGET_PORT, bytes unchanged (the TLS inside passes through).
Signals steer it, and every change is a line in LOG, so that a test waits
for the line, never for a time:

  SIGUSR1  arm: once a connection has carried HOLD_AFTER bytes from the
           caller since (a relay batch, not the headers before it),
           hold everything the callee sends back on that connection
           ("holding"). Nothing is dropped while held.
  SIGUSR2  release: send what is held and forward as before ("released N").

When either end of a holding connection closes (a node killed), the held
bytes are dropped ("dropped N") and the other end is closed: an answer that
never left. The proxy is then disarmed.
"""
import asyncio
import signal
import sys

HOLD_AFTER = 12 * 1024


class Proxy:
    def __init__(self, target_port, log):
        self.target_port = target_port
        self.log = log
        self.armed = False
        self.holder = None  # the connection that holds, while one does
        self.connections = set()

    def note(self, line):
        self.log.write(line + "\n")
        self.log.flush()

    def arm(self):
        # Count the caller's bytes from now: a batch sent before does not
        # count.
        for c in self.connections:
            c.up_bytes = 0
        self.armed = True
        self.note("armed")

    def release(self):
        self.armed = False
        if self.holder is not None:
            self.holder.release()
        else:
            self.note("released 0")


class Connection:
    def __init__(self, proxy, down_writer):
        self.proxy = proxy
        self.down_writer = down_writer  # towards the caller
        self.up_bytes = 0
        self.holding = False
        self.held = []

    def release(self):
        n = sum(len(b) for b in self.held)
        for b in self.held:
            self.down_writer.write(b)
        self.held = []
        self.holding = False
        self.proxy.holder = None
        self.proxy.note(f"released {n}")

    def drop(self):
        n = sum(len(b) for b in self.held)
        self.held = []
        self.holding = False
        self.proxy.holder = None
        self.proxy.armed = False
        self.proxy.note(f"dropped {n}")

    def caller_sent(self, n):
        self.up_bytes += n
        if (self.proxy.armed and self.proxy.holder is None
                and self.up_bytes >= HOLD_AFTER):
            self.holding = True
            self.proxy.holder = self
            self.proxy.note(f"holding after {self.up_bytes} bytes")

    def callee_sent(self, data):
        if self.holding:
            self.held.append(data)
        else:
            self.down_writer.write(data)


async def pipe(reader, on_data):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            await on_data(data)
    except (ConnectionError, OSError):
        return


async def serve(proxy, down_reader, down_writer):
    try:
        up_reader, up_writer = await asyncio.open_connection(
            "127.0.0.1", proxy.target_port)
    except OSError:
        down_writer.close()
        return
    conn = Connection(proxy, down_writer)
    proxy.connections.add(conn)

    async def from_caller(data):
        up_writer.write(data)
        conn.caller_sent(len(data))
        await up_writer.drain()

    async def from_callee(data):
        conn.callee_sent(data)
        if not conn.holding:
            await down_writer.drain()

    tasks = [asyncio.ensure_future(pipe(down_reader, from_caller)),
             asyncio.ensure_future(pipe(up_reader, from_callee))]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    proxy.connections.discard(conn)
    if conn.holding:
        conn.drop()
    for t in tasks:
        t.cancel()
    for w in (up_writer, down_writer):
        w.close()


async def main():
    listen_port, target_port, log_path = (int(sys.argv[1]), int(sys.argv[2]),
                                          sys.argv[3])
    proxy = Proxy(target_port, open(log_path, "a"))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, proxy.arm)
    loop.add_signal_handler(signal.SIGUSR2, proxy.release)
    server = await asyncio.start_server(
        lambda r, w: serve(proxy, r, w), "127.0.0.1", listen_port)
    proxy.note(f"listening on {listen_port} for {target_port}")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
