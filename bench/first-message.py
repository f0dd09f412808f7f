#!/usr/bin/env python3
"""bench/first-message.py PORT DOMAIN...: one SMTP session per domain, one after another, on 127.0.0.1:PORT, each step
timed (greeting, EHLO, MAIL, RCPT, DATA, the reply after the dot) in milliseconds; a 4xx/5xx reply is printed."""
import socket
import sys
import time


def reply(f):
    line = f.readline()
    while line[3:4] == b"-":
        line = f.readline()
    return line


port = int(sys.argv[1])
for i, domain in enumerate(sys.argv[2:]):
    started = time.time()
    with socket.create_connection(("127.0.0.1", port)) as s:
        f = s.makefile("rb")
        steps = []

        def step(command, name):
            t0 = time.time()
            if command:
                s.sendall(command)
            line = reply(f)
            steps.append(f"{name}={(time.time() - t0) * 1000:.1f}({line[:3].decode()})")
            if line[:1] in (b"4", b"5"):
                print(f"  {name}: {line.decode().strip()}", flush=True)

        body = (f"From: <probe@client.test>\r\nTo: <user@{domain}>\r\nDate: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
                f"Message-ID: <{i}.{started}@client.test>\r\nSubject: first message {i}\r\n\r\n").encode() + (b"x" * 76 + b"\r\n") * 13 + b".\r\n"
        step(None, "greeting")
        step(b"EHLO probe.client.test\r\n", "ehlo")
        step(b"MAIL FROM:<probe@client.test>\r\n", "mail")
        step(f"RCPT TO:<user@{domain}>\r\n".encode(), "rcpt")
        step(b"DATA\r\n", "data")
        step(body, "dot")
        s.sendall(b"QUIT\r\n")
    print(f"message {i} to {domain}: " + " ".join(steps) + f" total={(time.time() - started) * 1000:.1f}", flush=True)
