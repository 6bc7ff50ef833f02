# SPDX-License-Identifier: Apache-2.0
"""A userspace TCP proxy that adds delay and loss-like trouble (standard library, asyncio).

    proxy.py --listen HOST:PORT --target HOST:PORT [--rtt-ms MS] [--stall-prob P]
             [--stall-ms MS] [--reset-prob P] [--seed N]

The kernel of these machines has no netem, and a userspace relay cannot drop a TCP segment: the
kernels at both ends would retransmit it and the bytes would arrive anyway. So this proxy
models what a TCP application sees, not packets:

- delay: every chunk it reads in either direction is written on after half the round trip
  (--rtt-ms / 2), in order, so a request and its answer take one round trip more than without
  it; chunks keep their relative spacing (a throughput-limited stream stays one);
- loss: with probability --stall-prob a chunk is held a further --stall-ms (default 200 ms,
  Linux's minimum retransmission timeout), and every chunk behind it in that direction waits
  for it, as in-order delivery makes a retransmitted segment hold up the stream (head-of-line
  blocking);
- reset: with probability --reset-prob, a chunk the client sends is not forwarded and both
  connections are reset (RST, SO_LINGER 0), as a middlebox dropping a connection on the way in:
  the request never reaches the server, and the client must connect again and repeat it.

It prints `proxy listening on HOST:PORT` (the port chosen when 0 was asked), and on SIGTERM or
SIGINT the counts `proxy: N connections, N chunks, N stalled, N reset` and exits 0.
"""
import argparse
import asyncio
import random
import signal
import socket
import struct
import time

counts = {"connections": 0, "chunks": 0, "stalled": 0, "reset": 0}


def split(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def reset(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class Direction:
    """One direction of one connection: reads chunks, writes each at its release time."""

    def __init__(self, args, rng, reader, writer, from_client, broken):
        self.args, self.rng = args, rng
        self.reader, self.writer = reader, writer
        self.from_client = from_client
        self.broken = broken  # an asyncio.Event set when the connection is reset
        self.queue = asyncio.Queue()
        self.last_release = 0.0

    async def read(self):
        args, rng = self.args, self.rng
        while True:
            try:
                chunk = await self.reader.read(65536)
            except (ConnectionError, OSError):
                chunk = b""
            now = time.monotonic()
            if chunk:
                counts["chunks"] += 1
                if self.from_client and rng.random() < args.reset_prob:
                    counts["reset"] += 1
                    self.broken.set()
                    return
                release = now + args.rtt_ms / 2000
                if rng.random() < args.stall_prob:
                    counts["stalled"] += 1
                    release += args.stall_ms / 1000
                self.last_release = max(release, self.last_release)
            else:  # end of stream: passed on after what is queued, with the same delay
                self.last_release = max(now + args.rtt_ms / 2000, self.last_release)
            await self.queue.put((self.last_release, chunk))
            if not chunk:
                return

    async def write(self):
        while True:
            release, chunk = await self.queue.get()
            delay = release - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                if not chunk:
                    if self.writer.can_write_eof():
                        self.writer.write_eof()
                    return
                self.writer.write(chunk)
                await self.writer.drain()
            except (ConnectionError, OSError):
                self.broken.set()
                return


async def serve(args, client_reader, client_writer, rng):
    counts["connections"] += 1
    try:
        server_reader, server_writer = await asyncio.open_connection(*split(args.target))
    except OSError:
        reset(client_writer)
        return
    broken = asyncio.Event()
    up = Direction(args, rng, client_reader, server_writer, True, broken)
    down = Direction(args, rng, server_reader, client_writer, False, broken)
    tasks = [asyncio.ensure_future(t) for t in (up.read(), up.write(), down.read(), down.write())]
    waiter = asyncio.ensure_future(broken.wait())
    # Ends when both directions have written their end of stream, or at a reset.
    done_writing = asyncio.gather(tasks[1], tasks[3])
    try:
        await asyncio.wait([waiter, done_writing], return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the proxy is stopping
        broken.set()
    finally:
        if broken.is_set():
            reset(client_writer)
            reset(server_writer)
        else:
            client_writer.close()
            server_writer.close()
        for task in tasks + [waiter]:
            task.cancel()
        done_writing.cancel()
        await asyncio.gather(*tasks, waiter, done_writing, return_exceptions=True)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    parser.add_argument("--stall-prob", type=float, default=0.0)
    parser.add_argument("--stall-ms", type=float, default=200.0)
    parser.add_argument("--reset-prob", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    server = await asyncio.start_server(lambda r, w: serve(args, r, w, rng), *split(args.listen))
    host, port = server.sockets[0].getsockname()[:2]
    print(f"proxy listening on {host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    print("proxy: {connections} connections, {chunks} chunks, {stalled} stalled, "
          "{reset} reset".format(**counts), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
