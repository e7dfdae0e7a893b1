"""A real SMTP server on loopback for the mail tests: it speaks the protocol and keeps what it receives.

Nothing in-process is mocked: the app's `smtplib` connects over TCP, says EHLO, logs in (AUTH
PLAIN), sends, quits. `refuse_auth` makes it refuse the login, to test the words the page shows.
"""

from __future__ import annotations

import base64
import socketserver
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Iterator


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)  # email.message.EmailMessage, as received
    logins: list = field(default_factory=list)  # (user, password)
    refuse_auth: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[str]:
        with self.lock:
            return [m.get_content() for m in self.messages]


class _Handler(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 stub ESMTP")
        while line := self.rfile.readline(65536):
            verb = line.decode(errors="replace").strip().split(" ", 1)
            if not self.answer(verb[0].upper(), verb[1] if len(verb) > 1 else ""):
                return

    def answer(self, verb: str, arg: str) -> bool:
        if verb in ("EHLO", "HELO"):
            self.reply("250-stub\r\n250-AUTH PLAIN\r\n250 8BITMIME")
        elif verb == "AUTH":
            _, user, password = base64.b64decode(arg.split(" ", 1)[1]).decode().split("\0")
            self.mailbox.logins.append((user, password))
            self.reply("535 no" if self.mailbox.refuse_auth else "235 ok")
        elif verb == "DATA":
            self.reply("354 go on")
            self.receive_data()
            self.reply("250 queued")
        elif verb == "QUIT":
            self.reply("221 bye")
            return False
        else:  # MAIL, RCPT, RSET, NOOP
            self.reply("250 ok")
        return True

    def receive_data(self) -> None:
        lines = []
        while (line := self.rfile.readline(65536)) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        with self.mailbox.lock:
            self.mailbox.messages.append(message_from_bytes(b"".join(lines), policy=policy.default))


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """Serve SMTP on a free loopback port; yield the mailbox and the port."""
    mailbox = Mailbox()
    handler = type("Handler", (_Handler,), {"mailbox": mailbox})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield mailbox, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
