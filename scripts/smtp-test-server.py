#!/usr/bin/env python3
"""A real SMTP server on loopback for the Mail tests (aiosmtpd).

Listens on 127.0.0.1 on a free port, prints `LISTENING <port>` once it accepts connections, and
writes every accepted message to `<directory>/<n>.json` (written to a temporary name, then renamed,
so a reader never sees half a file):

    {"mail_from": ..., "rcpt_tos": [...], "tls": bool, "auth_user": str|null,
     "raw": "<the DATA bytes, base64>", "subject": "<decoded>", "from_name": ..., "from_address": ...,
     "to": [{"name": ..., "address": ...}], "body": "<decoded text, LF line ends>",
     "content_transfer_encoding": ..., "header_lines_max": <longest header line>,
     "body_lines_max": <longest body line>}

The decoded fields come from Python's own `email` parser, so a test compares what a standard
reader makes of the message with what the client meant to send.

Modes:
    --fail-once CODE       the first DATA (or RCPT, with --fail-at rcpt) gets CODE, later ones 250
    --reject CODE          every DATA (or RCPT, with --fail-at rcpt) gets CODE
    --auth USER:PASS       AUTH PLAIN and LOGIN offered and required before MAIL
    --auth-mechanisms LIST offer only these mechanisms (comma separated, e.g. LOGIN)
    --starttls CERT KEY    STARTTLS offered (--require-starttls: MAIL refused before it)
    --implicit-tls CERT KEY  TLS from the first byte (smtps)
    --no-ehlo              answer EHLO with 502, as an old HELO-only server does
    --hang-up              greet, then close the connection at the first command
    --silent               accept TCP connections and never say anything (timeout tests)

Runs until it is killed.
"""

import argparse
import asyncio
import base64
import email
import email.policy
import json
import logging
import os
import ssl
import sys


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="where received messages are written")
    parser.add_argument("--fail-once", type=int, metavar="CODE")
    parser.add_argument("--reject", type=int, metavar="CODE")
    parser.add_argument("--fail-at", choices=["rcpt", "data"], default="data")
    parser.add_argument("--auth", metavar="USER:PASS")
    parser.add_argument("--auth-mechanisms", metavar="LIST", help="offer only these, e.g. LOGIN")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--no-ehlo", action="store_true")
    parser.add_argument("--hang-up", action="store_true")
    parser.add_argument("--silent", action="store_true")
    return parser.parse_args()


def server_tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def failure_reply(code):
    text = {451: "4.3.0 Try again later", 550: "5.1.1 Mailbox unavailable"}.get(code, "Refused")
    return f"{code} {text}"


class RecordingHandler:
    """Answers RCPT and DATA as the mode says and records every accepted message."""

    def __init__(self, options):
        self.options = options
        self.failures_left = 1 if options.fail_once else 0
        self.count = 0

    def planned_failure(self, stage):
        if self.options.fail_at != stage:
            return None
        if self.options.reject:
            return failure_reply(self.options.reject)
        if self.failures_left > 0:
            self.failures_left -= 1
            return failure_reply(self.options.fail_once)
        return None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        failure = self.planned_failure("rcpt")
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        failure = self.planned_failure("data")
        if failure:
            return failure
        self.record(server, session, envelope)
        return "250 OK: queued"

    def record(self, server, session, envelope):
        raw = envelope.original_content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        from_header = message["from"]
        sender = from_header.addresses[0] if from_header is not None else None
        to_header = message["to"]
        recipients = to_header.addresses if to_header is not None else []
        body = message.get_content().replace("\r\n", "\n") if not message.is_multipart() else None
        header_part, _, body_part = raw.partition(b"\r\n\r\n")
        transport = server.transport
        tls = session.ssl is not None or (
            transport is not None and transport.get_extra_info("ssl_object") is not None)
        login = getattr(session.auth_data, "login", None)
        entry = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": tls,
            "auth_user": login.decode() if isinstance(login, bytes) else login,
            "raw": base64.b64encode(raw).decode("ascii"),
            "subject": str(message["subject"]) if message["subject"] is not None else None,
            "from_name": sender.display_name if sender else None,
            "from_address": sender.addr_spec if sender else None,
            "to": [{"name": r.display_name, "address": r.addr_spec} for r in recipients],
            "body": body,
            "content_transfer_encoding": message.get("content-transfer-encoding"),
            "header_lines_max": max((len(line) for line in header_part.split(b"\r\n")), default=0),
            "body_lines_max": max((len(line) for line in body_part.split(b"\r\n")), default=0),
        }
        self.count += 1
        name = f"{self.count:04d}.json"
        temporary = os.path.join(self.options.directory, f".{name}.tmp")
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(entry, file)
        os.rename(temporary, os.path.join(self.options.directory, name))


def authenticator_for(credentials):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    user, _, password = credentials.partition(":")

    def authenticate(server, session, envelope, mechanism, auth_data):
        accepted = (isinstance(auth_data, LoginPassword)
                    and auth_data.login == user.encode()
                    and auth_data.password == password.encode())
        # handled=False: aiosmtpd then answers a refusal with its own 535.
        return AuthResult(success=accepted, handled=False, auth_data=auth_data if accepted else None)

    return authenticate


class SilentProtocol(asyncio.Protocol):
    """Holds the connection open and never greets."""

    def connection_made(self, transport):
        self.transport = transport


class HangUpProtocol(asyncio.Protocol):
    """Greets like a server, then drops the connection at the first command."""

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"220 agora-test-smtp ready\r\n")

    def data_received(self, data):
        self.transport.close()


def smtp_factory(options):
    from aiosmtpd.smtp import SMTP

    class HELOOnlySMTP(SMTP):
        async def smtp_EHLO(self, hostname):
            await self.push("502 5.5.1 EHLO not implemented")

    handler = RecordingHandler(options)
    keywords = {"hostname": "agora-test-smtp", "decode_data": False}
    if options.starttls:
        keywords["tls_context"] = server_tls_context(*options.starttls)
        keywords["require_starttls"] = options.require_starttls
    if options.auth:
        keywords["authenticator"] = authenticator_for(options.auth)
        keywords["auth_required"] = True
        # Loopback tests may authenticate in the clear; the client decides whether it will.
        keywords["auth_require_tls"] = False
        if options.auth_mechanisms:
            offered = {name.strip().upper() for name in options.auth_mechanisms.split(",")}
            keywords["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN") if m not in offered]
    server_class = HELOOnlySMTP if options.no_ehlo else SMTP
    return lambda: server_class(handler, **keywords)


async def serve(options):
    loop = asyncio.get_running_loop()
    if options.silent:
        factory = SilentProtocol
    elif options.hang_up:
        factory = HangUpProtocol
    else:
        factory = smtp_factory(options)
    tls = server_tls_context(*options.implicit_tls) if options.implicit_tls else None
    server = await loop.create_server(factory, host="127.0.0.1", port=0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)
    async with server:
        await server.serve_forever()


def main():
    options = parse_arguments()
    # aiosmtpd reports a failing handler only through logging; the Swift tests capture stderr
    # and show it when the server does not start.
    logging.basicConfig(stream=sys.stderr, level=os.environ.get("SMTP_TEST_LOG", "WARNING"))
    os.makedirs(options.directory, exist_ok=True)
    try:
        asyncio.run(serve(options))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
