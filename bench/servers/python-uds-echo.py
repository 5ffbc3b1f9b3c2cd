"""The Python side of bench/ffi-python.mjs: an echo over a unix socket with asyncio, speaking
tresty-uds-echo's frames (u32 little-endian length, then the payload). It is what a Python
service reached over a socket looks like: one event loop, persistent pipelined connections,
every complete frame of a read answered, and one write per read.

    python3 bench/servers/python-uds-echo.py SOCKET_PATH     # prints "listening on SOCKET_PATH"
"""
import asyncio
import os
import signal
import struct
import sys

HEADER = struct.Struct("<I")
READ_MIN = 64 * 1024  # never read into less room than this


class Echo(asyncio.BufferedProtocol):
    """Reads into one buffer of its own (recv_into): a plain Protocol gets a fresh 256 KB bytes
    object per read, which costs more than the echo itself once frames are a few KB."""

    def connection_made(self, transport):
        self.transport = transport
        self.buf = bytearray(1 << 20)
        self.view = memoryview(self.buf)
        self.start = 0  # first byte not yet answered
        self.end = 0  # end of the bytes read so far

    def get_buffer(self, sizehint):
        if len(self.buf) - self.end < READ_MIN:  # make room: move the unanswered bytes to the front
            pending = self.end - self.start
            if pending + READ_MIN > len(self.buf):  # a frame too large for the buffer: grow it
                self.view.release()
                self.buf.extend(bytes(len(self.buf)))
                self.view = memoryview(self.buf)
            self.buf[:pending] = self.buf[self.start:self.end]
            self.start, self.end = 0, pending
        return self.view[self.end:]

    def buffer_updated(self, nbytes):
        self.end += nbytes
        buf, at, end = self.buf, self.start, self.end
        out = []
        while end - at >= 4:
            (n,) = HEADER.unpack_from(buf, at)
            if end - at - 4 < n:
                break
            out.append(echo(self.view[at + 4:at + 4 + n]))
            at += 4 + n
        if out:
            self.transport.writelines(out)
        self.start = at
        if at == end:
            self.start = self.end = 0


def echo(payload):
    """The service's logic: the payload back, framed."""
    return HEADER.pack(len(payload)) + payload


async def main(path):
    if os.path.exists(path):
        os.unlink(path)
    loop = asyncio.get_running_loop()
    server = await loop.create_unix_server(Echo, path)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    print("listening on %s" % path, flush=True)
    await stop
    server.close()
    os.unlink(path)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
