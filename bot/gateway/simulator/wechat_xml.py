"""The WeChat server's side of the protocol, as the simulator and the benchmark play it."""
from __future__ import annotations

import secrets
import time
from typing import Dict, List, Tuple
from xml.sax.saxutils import escape

from defusedxml import ElementTree

from bot.settings import Settings
from bot.gateway.wechat.crypto import WeChatMessageCrypto, url_signature

ACCOUNT_ID = "gh_zhinan_local"


def build_inbound_xml(settings: Settings, openid: str, fields: Dict[str, str]) -> str:
    """An inbound message as WeChat sends it (ToUserName = the account, FromUserName = user)."""
    parts = [
        f"<ToUserName><![CDATA[{ACCOUNT_ID}]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{int(time.time())}</CreateTime>",
    ]
    for name, value in fields.items():
        if name in ("MsgId", "CreateTime", "Location_X", "Location_Y", "Scale"):
            parts.append(f"<{name}>{escape(value)}</{name}>")
        else:
            parts.append(f"<{name}><![CDATA[{value.replace(']]>', ']]]]><![CDATA[>')}]]></{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def sign_request(settings: Settings, xml: str) -> Tuple[Dict[str, str], str]:
    """Query string and body for POST /wechat in the configured message mode."""
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    query = {
        "signature": url_signature(settings.wechat_token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": _field(xml, "FromUserName"),
    }
    if settings.wechat_message_mode != "safe":
        return query, xml
    crypto = WeChatMessageCrypto(
        settings.wechat_token, settings.wechat_encoding_aes_key, settings.wechat_appid
    )
    encrypt, msg_signature = crypto.encrypt_signed(xml, timestamp, nonce)
    query.update({"encrypt_type": "aes", "msg_signature": msg_signature})
    body = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT_ID}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
    return query, body


def read_reply(settings: Settings, body: str) -> List[str]:
    """The text(s) a user would see for a passive reply body ("success" shows nothing)."""
    body = body.strip()
    if not body or body == "success":
        return []
    root = ElementTree.fromstring(body)
    encrypt = root.findtext("Encrypt")
    if encrypt:
        crypto = WeChatMessageCrypto(
            settings.wechat_token, settings.wechat_encoding_aes_key, settings.wechat_appid
        )
        root = ElementTree.fromstring(crypto.decrypt(encrypt))
    content = root.findtext("Content")
    return [content] if content else []


def _field(xml: str, name: str) -> str:
    node = ElementTree.fromstring(xml).findtext(name)
    return node or ""
