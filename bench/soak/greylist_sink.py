#!/usr/bin/env python3
"""A greylisting SMTP sink for bench/soak.sh: the first delivery attempt of each recipient is answered
451 4.7.1 at RCPT (so the sender must queue and retry), every later one 250; messages are counted, not kept.
Prints "deferred=N accepted=N" to the file given as its third argument every second.

    greylist_sink.py HOST PORT COUNT_FILE
"""
import asyncio
import sys

seen = set()
counts = {"deferred": 0, "accepted": 0}


async def session(reader, writer):
    writer.write(b"220 grey.sink ESMTP\r\n")
    rcpts = []
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-grey.sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"MAIL":
                rcpts = []
                writer.write(b"250 2.1.0 Ok\r\n")
            elif verb == b"RCPT":
                address = line[8:].strip().lower()
                if address in seen:
                    rcpts.append(address)
                    writer.write(b"250 2.1.5 Ok\r\n")
                else:
                    seen.add(address)
                    counts["deferred"] += 1
                    writer.write(b"451 4.7.1 Greylisted, try again later\r\n")
            elif verb == b"DATA":
                if not rcpts:
                    writer.write(b"554 5.5.1 No valid recipients\r\n")
                    continue
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                while (await reader.readline()) not in (b".\r\n", b""):
                    pass
                for address in rcpts:
                    seen.discard(address)  # unique recipients: forget them once delivered, memory stays flat
                counts["accepted"] += len(rcpts)
                writer.write(b"250 2.0.0 Ok: queued\r\n")
            elif verb == b"RSET":
                rcpts = []
                writer.write(b"250 2.0.0 Ok\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 Bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 2.0.0 Ok\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def report(path):
    while True:
        with open(path, "w") as f:
            f.write(f"deferred={counts['deferred']} accepted={counts['accepted']}\n")
        await asyncio.sleep(1)


async def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    server = await asyncio.start_server(session, host, port, limit=1 << 20)
    asyncio.create_task(report(path))
    async with server:
        await server.serve_forever()


asyncio.run(main())
