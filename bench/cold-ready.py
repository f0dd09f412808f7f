#!/usr/bin/env python3
"""bench/cold-ready.py PORT T0 TIMEOUT: waits for an SMTP 220 greeting on 127.0.0.1:PORT, polling every 5 ms, and
prints the seconds from T0 (epoch seconds, when the server process was launched) to the greeting. Exit 1 on timeout.
A connection that is refused or closed without 220 (a server still starting) is retried."""
import socket
import sys
import time

port, t0, timeout = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
while time.time() - t0 < timeout:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            reply = s.makefile("rb").readline()
            if reply.startswith(b"220"):
                greeted = time.time()
                s.sendall(b"QUIT\r\n")
                print(f"{greeted - t0:.3f}")
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.005)
sys.exit(1)
