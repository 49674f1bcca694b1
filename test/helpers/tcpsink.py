#!/usr/bin/env python3
"""A TCP sink for the tests: accepts connections on ADDR PORT, reads each one to its end and
writes "<peer address>:<port> <bytes received>" to LOG when it closes. The receiver's own count,
independent of measured, of what a connection delivered."""
import socket
import sys
import threading


def serve(conn, peer, log):
    received = 0
    while True:
        data = conn.recv(1 << 20)
        if not data:
            break
        received += len(data)
    conn.close()
    log.write(f"{peer[0]}:{peer[1]} {received}\n")


def main(addr, port, path):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(64)
    log = open(path, "a", buffering=1)
    while True:
        conn, peer = srv.accept()
        threading.Thread(target=serve, args=(conn, peer, log), daemon=True).start()


if __name__ == "__main__":
    main(*sys.argv[1:4])
