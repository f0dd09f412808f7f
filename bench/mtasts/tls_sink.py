#!/usr/bin/env python3
"""A STARTTLS SMTP sink for bench/mtasts.sh: accepts every message, counts them in COUNT_FILE.
usage: tls_sink.py HOST PORT CERT KEY COUNT_FILE"""
import asyncio, ssl, sys

host, port, cert, key, count_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
count = 0

async def session(reader, writer):
    global count
    writer.write(b"220 mx.sts.test ESMTP bench sink\r\n")
    tls = False
    try:
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                ext = b"" if tls else b"250-STARTTLS\r\n"
                writer.write(b"250-mx.sts.test\r\n250-PIPELINING\r\n" + ext + b"250 8BITMIME\r\n")
            elif verb == b"STAR":
                writer.write(b"220 2.0.0 go ahead\r\n")
                await writer.drain()
                await writer.start_tls(ctx)
                tls = True
            elif verb == b"DATA":
                writer.write(b"354 go\r\n")
                await writer.drain()
                while (data := await reader.readline()) not in (b".\r\n", b""):
                    pass
                count += 1
                writer.write(b"250 2.0.0 ok\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 2.0.0 ok\r\n")
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    writer.close()

async def report():
    while True:
        with open(count_file, "w") as f:
            f.write(str(count))
        await asyncio.sleep(0.05)

async def main():
    server = await asyncio.start_server(session, host, port)
    asyncio.create_task(report())
    async with server:
        await server.serve_forever()

asyncio.run(main())
