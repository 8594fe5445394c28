"""A scriptable SMTP server for breves' tests, built on aiosmtpd.

It listens on a loopback port and writes every message it accepts to
DUMP/<n>.eml, the first line naming the recipient (`X-Rcpt-To: <addr>`), and
every RCPT and AUTH it sees to DUMP/log.jsonl. Faults are chosen per
recipient from a hash of the address, so a run is repeatable:

  --soft PCT      answer 451 to RCPT on a recipient's first attempt (PCT % of them)
  --drop PCT      close the connection at RCPT on a recipient's first attempt
  --reject ADDR   answer 550 to RCPT for this address, always (repeatable)
  --lose ADDR     store the message, then close without replying (the
                  client cannot know it was delivered), on the first attempt
  --starttls CERT KEY   offer STARTTLS and require it before MAIL and AUTH
  --implicit CERT KEY   speak TLS from the first byte
  --auth USER:PASS      require AUTH (PLAIN, LOGIN) with these credentials
  --auth-plain          offer AUTH without TLS (to check a client will not use it)
  --reject-sender       answer 553 5.7.1 to every MAIL FROM (a relay that will
                  not send as this sender)
  --reject-every-rcpt REPLY   answer REPLY (such as "550 5.7.1 relaying
                  denied") to every RCPT: the relay's refusal, not the recipients'
  --max-size N          offer SIZE N in EHLO and refuse larger messages (552)
  --reply-data REPLY    answer REPLY to the end of every message, keeping nothing
  --refuse-data-for ADDR   answer 554 5.7.1 to the end of this address's
                  message, keeping nothing (repeatable)
  --lose-all      store every message, then close without replying
  --no-pipelining       do not offer PIPELINING (RFC 2920), which is offered
                  by default, as Postfix does; each MAIL is logged with how
                  many bytes had arrived behind it (`behind`), so a test
                  can see whether RCPT and DATA came in the same write
  --refuse-yet-take ADDR   answer 550 to RCPT for this address, yet go on
                  to take DATA with 354 (a server that does, so that a
                  pipelining client must not send the message)
  --refuse-starttls REPLY   answer REPLY (such as "454 4.7.0 TLS not
                  available") to STARTTLS, which is offered (with --starttls)
  --auth-reply REPLY    answer REPLY (such as "454 4.7.0 Temporary
                  authentication failure") to every AUTH (with --auth)
  --inject-after-starttls   send, in the same segment as the reply to
                  STARTTLS, a forged EHLO reply offering AUTH PLAIN: what a
                  man in the middle does to a client that keeps reading its
                  plain-text buffer once TLS is up (CVE-2011-0411 class)

Each connection is numbered in the order its first command arrives; MAIL,
RSET and QUIT are logged with that number (`conn`), so a test sees which
transactions shared a connection and whether the client said goodbye.

Prints `READY <port>` once listening, and serves until killed.
"""

import argparse
import asyncio
import hashlib
import json
import os
import ssl
import sys
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class InjectingSMTP(SMTP):
    """Appends a forged reply to the reply to STARTTLS, in one write."""

    async def push(self, status):
        if status == "220 Ready to start TLS":
            status += "\r\n250-forged.example.org\r\n250 AUTH PLAIN LOGIN"
        await super().push(status)


class InjectingController(Controller):
    def factory(self):
        return InjectingSMTP(self.handler, **self.SMTP_kwargs)


class RefusingTLS(SMTP):
    """Offers STARTTLS, then answers it with the reply it was given."""

    reply = "454 4.7.0 TLS not available"

    async def smtp_STARTTLS(self, arg):
        await self.push(self.reply)


class RefusingTLSController(Controller):
    def factory(self):
        return RefusingTLS(self.handler, **self.SMTP_kwargs)


def share(address, salt):
    digest = hashlib.sha256(f"{salt}:{address.lower()}".encode()).digest()
    return digest[0] * 100 // 256


class Handler:
    def __init__(self, args):
        self.args = args
        self.attempts = {}
        self.count = 0
        self.connections = 0
        self.lock = threading.Lock()

    def conn(self, session):
        """The number of the connection a session is."""
        with self.lock:
            if getattr(session, "conn", None) is None:
                self.connections += 1
                session.conn = self.connections
            return session.conn

    def log(self, **entry):
        with self.lock, open(os.path.join(self.args.dump, "log.jsonl"), "a") as f:
            f.write(json.dumps(entry) + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not self.args.no_pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        behind = len(server._reader._buffer) if server._reader is not None else 0
        self.log(event="mail", address=address, behind=behind, conn=self.conn(session))
        if self.args.reject_sender:
            return "553 5.7.1 <%s>: sender address rejected: not owned by the user" % address
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RSET(self, server, session, envelope):
        self.log(event="rset", conn=self.conn(session))
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        self.log(event="quit", conn=self.conn(session))
        return "221 Bye"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.reject_every_rcpt:
            self.log(event="rcpt", address=address, attempt=0)
            return self.args.reject_every_rcpt
        with self.lock:
            n = self.attempts.get(address, 0) + 1
            self.attempts[address] = n
        self.log(event="rcpt", address=address, attempt=n)
        if address in self.args.reject:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if address in self.args.refuse_yet_take:
            envelope.rcpt_tos.append(address)
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if n == 1 and share(address, "soft") < self.args.soft:
            return "451 4.3.0 try again later"
        if n == 1 and share(address, "drop") < self.args.drop:
            server.transport.close()
            return "421 4.3.0 closing"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.reply_data:
            return self.args.reply_data
        refused = [r for r in envelope.rcpt_tos if r in self.args.refuse_data_for]
        if refused:
            self.log(event="data-refused", address=refused[0])
            return "554 5.7.1 <%s>: message refused by the recipient's filter" % refused[0]
        with self.lock:
            self.count += 1
            name = os.path.join(self.args.dump, "%06d.eml" % self.count)
        with open(name, "wb") as f:
            for rcpt in envelope.rcpt_tos:
                f.write(b"X-Rcpt-To: <" + rcpt.encode() + b">\r\n")
            f.write(envelope.original_content or envelope.content)
        if self.args.lose_all:
            server.transport.close()
            return "250 2.0.0 OK (never seen)"
        lose = [r for r in envelope.rcpt_tos if r in self.args.lose]
        if lose and self.attempts.get(lose[0], 0) <= 1:
            self.log(event="lost-reply", address=lose[0])
            server.transport.close()
            return "250 2.0.0 OK (never seen)"
        return "250 2.0.0 OK queued as %06d" % self.count


def authenticator(handler, expected, reply):
    def check(server, session, envelope, mechanism, auth_data):
        if reply:
            handler.log(event="auth", login=auth_data.login.decode(), ok=False, tls=session.ssl is not None)
            return AuthResult(success=False, handled=False, message=reply)
        ok = (
            isinstance(auth_data, LoginPassword)
            and f"{auth_data.login.decode()}:{auth_data.password.decode()}" == expected
        )
        handler.log(event="auth", login=auth_data.login.decode(), ok=ok, tls=session.ssl is not None)
        return AuthResult(success=ok, handled=False)

    return check


def context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dump", required=True)
    p.add_argument("--soft", type=int, default=0)
    p.add_argument("--drop", type=int, default=0)
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--lose", action="append", default=[])
    p.add_argument("--starttls", nargs=2)
    p.add_argument("--implicit", nargs=2)
    p.add_argument("--auth")
    p.add_argument("--auth-plain", action="store_true")
    p.add_argument("--inject-after-starttls", action="store_true")
    p.add_argument("--refuse-starttls")
    p.add_argument("--auth-reply")
    p.add_argument("--reject-sender", action="store_true")
    p.add_argument("--reject-every-rcpt")
    p.add_argument("--max-size", type=int)
    p.add_argument("--reply-data")
    p.add_argument("--refuse-data-for", action="append", default=[])
    p.add_argument("--lose-all", action="store_true")
    p.add_argument("--no-pipelining", action="store_true")
    p.add_argument("--refuse-yet-take", action="append", default=[])
    args = p.parse_args()
    # aiosmtpd warns about what some tests do on purpose (AUTH offered without TLS).
    warnings.filterwarnings("ignore")
    if os.environ.get("SMTPD_DEBUG"):
        import logging

        logging.basicConfig(level=logging.DEBUG)
    os.makedirs(args.dump, exist_ok=True)
    handler = Handler(args)
    kwargs = dict(hostname="127.0.0.1", port=args.port, ready_timeout=10)
    if args.max_size:
        kwargs.update(data_size_limit=args.max_size)
    if args.starttls:
        kwargs.update(tls_context=context(*args.starttls), require_starttls=True)
    if args.implicit:
        kwargs.update(ssl_context=context(*args.implicit))
    if args.auth:
        kwargs.update(
            authenticator=authenticator(handler, args.auth, args.auth_reply),
            auth_required=True,
            auth_require_tls=not args.auth_plain,
        )
    kind = Controller
    if args.inject_after_starttls:
        kind = InjectingController
    if args.refuse_starttls:
        RefusingTLS.reply = args.refuse_starttls
        kind = RefusingTLSController
    controller = kind(handler, **kwargs)
    controller.start()
    print("READY", args.port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
