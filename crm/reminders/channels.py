"""The three channels a message leaves by: 企业微信 application messages, SMS through a provider
(阿里云's, behind an interface), email over SMTP.

Each sender answers a message with the provider's id, or raises: Retry (try again later),
RateLimited (the channel said slow down: back off and pause it), GiveUp (it will never work:
an unknown userid, a number the provider refuses; the admin is told). Secrets come from the
settings (the environment), and no error message carries one, nor an access token.

Exactly once after a crash between sending and recording: a message claimed long ago is asked
about before it is sent again (already_sent): the SMS provider is asked for the message's out-id
(OutId) among that number's messages of the day; 企业微信 is sent the same message again with
its duplicate check on (an identical message to the same user within four hours is dropped).
Email has neither: a resent email carries the same Message-ID, which mail clients merge, but a
mail server may deliver it twice.
"""

import base64
import hashlib
import hmac
import json
import smtplib
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any, Protocol

from crm.reminders.models import Channel, OutboxMessage


class Retry(Exception):  # noqa: N818 (what the sender says to do, not an error's name)
    """Not sent now; try again later."""


class RateLimited(Retry):
    """The channel asked to slow down."""


class GiveUp(Exception):  # noqa: N818
    """This message will never go: the reason is for the admin."""


class Sender(Protocol):
    channel: Channel

    def send(self, message: OutboxMessage) -> str: ...

    def already_sent(self, message: OutboxMessage) -> str | None: ...


def _post_json(url: str, payload: dict, timeout: float) -> dict:
    request = urllib.request.Request(  # noqa: S310 (the settings' https address, or a test's)
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    return _read_json(request, timeout)


def _read_json(request: urllib.request.Request | str, timeout: float) -> dict:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https, or the tests' local server)
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 429:
            raise RateLimited(f"HTTP {error.code}") from None
        raise Retry(f"HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise Retry(f"网络错误：{type(error).__name__}") from None


# --- 企业微信 ------------------------------------------------------------------------------------

TOKEN_EXPIRED = {40014, 42001, 42007, 42009}  # invalid or expired access_token: renew, retry
RATE_LIMITED = {45009, 45033, 45047}  # over a frequency limit: back off
NO_SUCH_USER = {40003, 60111, 81013, 82001}  # the userid is unknown or out of the app's range
DUPLICATE_CHECK_SECONDS = 4 * 3600  # the longest 企业微信 allows


class WeCom:
    """企业微信's application messages: gettoken, then message/send as text. The access token
    is kept until shortly before it expires and renewed when 企业微信 says it has expired."""

    channel = Channel.WECOM

    def __init__(self, api: str, corp_id: str, agent_id: int, secret: str, timeout: float = 10):
        self.api, self.corp_id, self.agent_id = api.rstrip("/"), corp_id, agent_id
        self._secret, self.timeout = secret, timeout
        self._token: tuple[str, float] | None = None  # token, monotonic expiry
        self._lock = threading.Lock()
        self.tokens_fetched = 0

    def _access_token(self, *, renew: bool = False) -> str:
        with self._lock:
            if renew or self._token is None or time.monotonic() >= self._token[1]:
                query = urllib.parse.urlencode({"corpid": self.corp_id, "corpsecret": self._secret})
                answer = _read_json(f"{self.api}/cgi-bin/gettoken?{query}", self.timeout)
                if answer.get("errcode", 0) != 0:
                    raise GiveUp(
                        f"企业微信拒绝发放 access_token（错误码 {answer.get('errcode')}），请检查企业 ID 和应用 Secret。"
                    )
                lifetime = int(answer.get("expires_in", 7200))
                self._token = (answer["access_token"], time.monotonic() + lifetime - 300)
                self.tokens_fetched += 1
            return self._token[0]

    def send(self, message: OutboxMessage) -> str:
        payload = {
            "touser": message.recipient,
            "msgtype": "text",
            "agentid": self.agent_id,
            "text": {"content": message.body},
            "enable_duplicate_check": 1,
            "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
        }
        for renewed in (False, True):
            token = self._access_token(renew=renewed)
            answer = _post_json(
                f"{self.api}/cgi-bin/message/send?access_token={token}", payload, self.timeout
            )
            code = answer.get("errcode", -1)
            if code == 0:
                if answer.get("invaliduser"):
                    raise GiveUp(f"企业微信用户“{message.recipient}”不存在或不在应用可见范围内。")
                return str(answer.get("msgid", ""))
            if code not in TOKEN_EXPIRED:
                break
        if code in TOKEN_EXPIRED:
            raise Retry(f"企业微信 access_token 续期后仍无效（错误码 {code}）")
        if code in RATE_LIMITED:
            raise RateLimited(f"企业微信限流（错误码 {code}）")
        if code in NO_SUCH_USER:
            raise GiveUp(
                f"企业微信用户“{message.recipient}”不存在或不在应用可见范围内（错误码 {code}）。"
            )
        raise Retry(f"企业微信错误码 {code}")

    def already_sent(self, message: OutboxMessage) -> str | None:
        return None  # sent again: 企业微信's duplicate check drops the twin


# --- SMS --------------------------------------------------------------------------------------


class AliyunSms:
    """阿里云短信服务 (dysmsapi 2017-05-25): SendSms with a template code and its parameters,
    the message's out-id in OutId; QuerySendDetails finds a message sent before a crash by it.
    Requests are signed as the RPC API asks (HMAC-SHA1 over the sorted query)."""

    channel = Channel.SMS

    def __init__(self, api: str, key_id: str, key_secret: str, sign_name: str, timeout: float = 10):
        self.api, self.key_id, self._secret = api.rstrip("/"), key_id, key_secret
        self.sign_name, self.timeout = sign_name, timeout

    @staticmethod
    def out_id(message: OutboxMessage) -> str:
        return f"crm-{message.id}"

    def _call(self, action: str, **params: str) -> dict:
        query = {
            "AccessKeyId": self.key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            **params,
        }
        canonical = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items()))
        to_sign = f"GET&{_quote('/')}&{_quote(canonical)}"
        digest = hmac.new(f"{self._secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
        signature = _quote(base64.b64encode(digest).decode())
        return _read_json(f"{self.api}/?Signature={signature}&{canonical}", self.timeout)

    def send(self, message: OutboxMessage) -> str:
        template_code, params = json.loads(message.body)
        answer = self._call(
            "SendSms",
            PhoneNumbers=message.recipient,
            SignName=self.sign_name,
            TemplateCode=template_code,
            TemplateParam=json.dumps(params, ensure_ascii=False),
            OutId=self.out_id(message),
        )
        code = answer.get("Code")
        if code == "OK":
            return str(answer.get("BizId", ""))
        if code in ("isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "isv.DAY_LIMIT_CONTROL"):
            raise RateLimited(f"短信服务限流（{code}）")
        if code in (
            "isv.MOBILE_NUMBER_ILLEGAL",
            "isv.SMS_TEMPLATE_ILLEGAL",
            "isv.SMS_SIGNATURE_ILLEGAL",
        ):
            raise GiveUp(f"短信服务拒绝：{code}")
        raise Retry(f"短信服务错误：{code}")

    def already_sent(self, message: OutboxMessage) -> str | None:
        day = message.claimed_at or message.not_before
        answer = self._call(
            "QuerySendDetails",
            PhoneNumber=message.recipient,
            SendDate=f"{day:%Y%m%d}",
            PageSize="50",
            CurrentPage="1",
        )
        details = answer.get("SmsSendDetailDTOs", {}).get("SmsSendDetailDTO", [])
        for detail in details:
            if detail.get("OutId") == self.out_id(message):
                return str(detail.get("BizId", ""))
        return None


def _quote(text: str) -> str:
    return urllib.parse.quote(str(text), safe="~")


# --- email ------------------------------------------------------------------------------------


class Smtp:
    """Plain text over SMTP, STARTTLS when asked, with a Message-ID that is the message's own."""

    channel = Channel.EMAIL

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 10,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self._password, self.starttls, self.timeout = user, password, starttls, timeout

    def message_id(self, message: OutboxMessage) -> str:
        domain = self.sender.rsplit("@", 1)[-1] or "localhost"
        return f"<outbox-{message.id}-{message.day:%Y%m%d}@{domain}>"

    def send(self, message: OutboxMessage) -> str:
        mail = EmailMessage()
        mail["From"] = formataddr(("党建指导员工作台", self.sender))
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Message-ID"] = self.message_id(message)
        mail.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self._password)
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused:
            raise GiveUp(f"邮件服务器拒收地址“{message.recipient}”。") from None
        except smtplib.SMTPAuthenticationError:
            raise GiveUp("邮件服务器拒绝登录，请检查 SMTP 用户名和密码。") from None
        except (smtplib.SMTPException, OSError) as error:
            raise Retry(f"邮件发送失败：{type(error).__name__}") from None
        if refused:
            raise GiveUp(f"邮件服务器拒收地址“{message.recipient}”。")
        return self.message_id(message)

    def already_sent(self, message: OutboxMessage) -> str | None:
        return None


def configured(config: dict[str, Any]) -> dict[Channel, Sender]:
    """The senders whose settings are all present."""
    out: dict[Channel, Sender] = {}
    if config.get("WECOM_CORP_ID") and config.get("WECOM_SECRET") and config.get("WECOM_AGENT_ID"):
        out[Channel.WECOM] = WeCom(
            config["WECOM_API"],
            config["WECOM_CORP_ID"],
            int(config["WECOM_AGENT_ID"]),
            config["WECOM_SECRET"],
        )
    if config.get("SMS_ACCESS_KEY_ID") and config.get("SMS_ACCESS_KEY_SECRET"):
        out[Channel.SMS] = AliyunSms(
            config["SMS_API"],
            config["SMS_ACCESS_KEY_ID"],
            config["SMS_ACCESS_KEY_SECRET"],
            config["SMS_SIGN_NAME"],
        )
    if config.get("SMTP_HOST") and config.get("SMTP_FROM"):
        out[Channel.EMAIL] = Smtp(
            config["SMTP_HOST"],
            int(config["SMTP_PORT"]),
            config["SMTP_FROM"],
            user=config.get("SMTP_USER", ""),
            password=config.get("SMTP_PASSWORD", ""),
            starttls=bool(config.get("SMTP_STARTTLS")),
        )
    return out
