"""Real local servers for the channels, no network: 企业微信's gettoken and message/send with
their JSON and error codes, an SMS provider's API as 阿里云's (signatures checked, OutId kept,
QuerySendDetails), and an SMTP server (aiosmtpd). Each records what it delivered."""

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CORP_ID, AGENT_ID, SECRET = "ww-test-corp", 1000002, "wecom-secret"
KEY_ID, KEY_SECRET = "sms-key-id", "sms-key-secret"


@contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class WeComStandIn:
    """企业微信 as far as we call it. `expire_after` tokens stop working after that many
    messages (42001); `limit_after` messages, later ones are rate limited (45009); users not
    in `users` are unknown (60111); an identical message to a user within the duplicate check's
    interval is dropped, as 企业微信 drops it."""

    users: set[str] = field(default_factory=set)
    expire_after: int | None = None
    limit_after: int | None = None
    delivered: list[tuple[str, str]] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)  # token → messages sent with it
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            if request.path == "/cgi-bin/gettoken":
                answer = self._token(request)
            elif request.path == "/cgi-bin/message/send" and request.method == "POST":
                answer = self._send(request)
            else:
                answer = {"errcode": 404, "errmsg": "not found"}
        return Response(json.dumps(answer), mimetype="application/json")(environ, start_response)

    def _token(self, request):
        if (request.args.get("corpid"), request.args.get("corpsecret")) != (CORP_ID, SECRET):
            return {"errcode": 40001, "errmsg": "invalid credential"}
        token = f"token-{len(self.tokens) + 1}"
        self.tokens[token] = 0
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def _send(self, request):
        self.calls += 1
        token = request.args.get("access_token", "")
        if token not in self.tokens:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if self.expire_after is not None and self.tokens[token] >= self.expire_after:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if self.limit_after is not None and len(self.delivered) >= self.limit_after:
            return {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
        body = request.get_json()
        if body["agentid"] != AGENT_ID or body["msgtype"] != "text":
            return {"errcode": 40056, "errmsg": "invalid agentid"}
        if body["touser"] not in self.users:
            return {"errcode": 60111, "errmsg": "userid not found"}
        self.tokens[token] += 1
        sent = (body["touser"], body["text"]["content"])
        if not (body.get("enable_duplicate_check") and sent in self.delivered):
            self.delivered.append(sent)
        return {"errcode": 0, "errmsg": "ok", "msgid": f"msg-{self.calls}"}


def aliyun_signature(query: dict[str, str], secret: str) -> str:
    """The signature 阿里云's RPC API expects, computed here from its documentation."""

    def quote(text: str) -> str:
        return urllib.parse.quote(text, safe="~")

    canonical = "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(query.items()))
    to_sign = "GET&%2F&" + quote(canonical)
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class SmsStandIn:
    """阿里云短信 as far as we call it: SendSms (signature checked, the OutId kept) and
    QuerySendDetails. `limit_after` sends, later ones are throttled."""

    limit_after: int | None = None
    sent: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        request = Request(environ)
        query = dict(request.args)
        signature = query.pop("Signature", "")
        with self.lock:
            if query.get("AccessKeyId") != KEY_ID or signature != aliyun_signature(
                query, KEY_SECRET
            ):
                answer = {
                    "Code": "SignatureDoesNotMatch",
                    "Message": "Specified signature is not matched",
                }
            elif query.get("Action") == "SendSms":
                answer = self._send(query)
            elif query.get("Action") == "QuerySendDetails":
                found = [s for s in self.sent if s["PhoneNumbers"] == query["PhoneNumber"]]
                answer = {"Code": "OK", "SmsSendDetailDTOs": {"SmsSendDetailDTO": [
                    {"OutId": s.get("OutId", ""), "BizId": s["BizId"], "PhoneNum": s["PhoneNumbers"]}
                    for s in found
                ]}}  # fmt: skip
            else:
                answer = {"Code": "InvalidAction"}
        return Response(json.dumps(answer), mimetype="application/json")(environ, start_response)

    def _send(self, query):
        if self.limit_after is not None and len(self.sent) >= self.limit_after:
            return {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"}
        record = {**query, "BizId": f"biz-{len(self.sent) + 1}"}
        self.sent.append(record)
        return {"Code": "OK", "BizId": record["BizId"], "RequestId": "r"}


class Mailbox:
    """aiosmtpd's handler: every message accepted, kept whole."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@contextmanager
def smtp_server():
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its own port, so it needs a real one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


def wait_for(condition, seconds: float = 5) -> None:
    until = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > until:
            raise AssertionError("timed out")
        time.sleep(0.01)
