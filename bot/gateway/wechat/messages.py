"""WeChat XML in and out: typed inbound messages/events, passive replies, safe-mode envelopes.

Parsing goes through defusedxml with DTDs, entities and external references forbidden; a body
that even mentions `<!DOCTYPE` or `<!ENTITY` is refused before the parser sees it. Every parse
failure is a `MessageParseError`, never an exception from the XML library.
"""
from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass, field
from typing import Dict, Optional, Union

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from xml.etree.ElementTree import ParseError

_FORBIDDEN_MARKUP = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


class MessageParseError(Exception):
    """The body is not a WeChat message we accept (malformed, DTD/entities, bad field)."""


# ---------------------------------------------------------------------------------------------
# Inbound types


@dataclass(frozen=True)
class InboundMessage:
    """Fields common to every message and event; `raw` keeps all top-level fields as text."""

    to_user: str
    from_user: str  # the user's OpenID
    create_time: int
    msg_type: str
    msg_id: Optional[str] = None
    raw: Dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def dedupe_id(self) -> str:
        """MsgId for messages; events (they have no MsgId) override this in `EventMessage`."""
        if self.msg_id:
            return f"m{self.msg_id}"
        return f"e{self.from_user}:{self.create_time}"


@dataclass(frozen=True)
class TextMessage(InboundMessage):
    content: str = ""


@dataclass(frozen=True)
class VoiceMessage(InboundMessage):
    media_id: str = ""
    format: str = ""
    recognition: str = ""  # empty when speech recognition is off or failed


@dataclass(frozen=True)
class LocationMessage(InboundMessage):
    latitude: float = 0.0  # Location_X
    longitude: float = 0.0  # Location_Y
    scale: Optional[int] = None
    label: str = ""


@dataclass(frozen=True)
class MediaMessage(InboundMessage):
    """image, video, shortvideo, link, file: Zhinan cannot read these yet."""

    media_id: str = ""
    url: str = ""  # PicUrl for images, Url for links
    title: str = ""
    description: str = ""


@dataclass(frozen=True)
class UnknownMessage(InboundMessage):
    pass


@dataclass(frozen=True)
class EventMessage(InboundMessage):
    event: str = ""
    event_key: str = ""

    @property
    def dedupe_id(self) -> str:
        """User, CreateTime, event and key: two different events in one second are two turns
        (a menu CLICK and the LOCATION report it triggers, two menu keys). Hashed, so that no
        key named after the OpenID outlives an unfollow."""
        ident = f"{self.from_user}\n{self.create_time}\n{self.event.lower()}\n{self.event_key}"
        return "e" + hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class SubscribeEvent(EventMessage):
    scene: str = ""  # the parametric QR code's scene, without the "qrscene_" prefix
    ticket: str = ""


@dataclass(frozen=True)
class UnsubscribeEvent(EventMessage):
    pass


@dataclass(frozen=True)
class ScanEvent(EventMessage):
    scene: str = ""
    ticket: str = ""


@dataclass(frozen=True)
class ClickEvent(EventMessage):
    pass


@dataclass(frozen=True)
class ViewEvent(EventMessage):
    url: str = ""


@dataclass(frozen=True)
class LocationEvent(EventMessage):
    latitude: float = 0.0
    longitude: float = 0.0
    precision: Optional[float] = None


@dataclass(frozen=True)
class UnknownEvent(EventMessage):
    pass


Message = Union[
    TextMessage,
    VoiceMessage,
    LocationMessage,
    MediaMessage,
    UnknownMessage,
    SubscribeEvent,
    UnsubscribeEvent,
    ScanEvent,
    ClickEvent,
    ViewEvent,
    LocationEvent,
    UnknownEvent,
]

MEDIA_TYPES = ("image", "video", "shortvideo", "link", "file")


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_xml_fields(body: Union[bytes, str]) -> Dict[str, str]:
    """The top-level child elements of `<xml>` as a text map; rejects DTDs and entities."""
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if _FORBIDDEN_MARKUP.search(data):
        raise MessageParseError("DTD/entity declarations are not allowed")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError, UnicodeError, LookupError) as exc:
        raise MessageParseError(f"malformed XML: {exc.__class__.__name__}") from exc
    if root.tag != "xml":
        raise MessageParseError("root element must be <xml>")
    fields: Dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str) and child.tag not in fields:
            fields[child.tag] = (child.text or "").strip() if len(child) == 0 else ""
    return fields


def _int(fields: Dict[str, str], name: str, required: bool = False) -> Optional[int]:
    value = fields.get(name, "")
    if not value:
        if required:
            raise MessageParseError(f"missing {name}")
        return None
    if not re.fullmatch(r"-?\d{1,20}", value):
        raise MessageParseError(f"{name} is not an integer")
    return int(value)


def _coordinate(fields: Dict[str, str], name: str, limit: float) -> float:
    value = fields.get(name, "")
    try:
        number = float(value)
    except ValueError as exc:
        raise MessageParseError(f"{name} is not a number") from exc
    if not math.isfinite(number) or abs(number) > limit:
        raise MessageParseError(f"{name} is out of range")
    return number


def _optional_float(fields: Dict[str, str], name: str) -> Optional[float]:
    value = fields.get(name, "")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def message_from_fields(fields: Dict[str, str]) -> Message:
    """Build the typed message; raises MessageParseError on missing/invalid common fields."""
    to_user = fields.get("ToUserName", "")
    from_user = fields.get("FromUserName", "")
    msg_type = fields.get("MsgType", "").lower()
    if not from_user or not to_user or not msg_type:
        raise MessageParseError("ToUserName, FromUserName and MsgType are required")
    if len(from_user) > 128 or not re.fullmatch(r"[A-Za-z0-9_\-]+", from_user):
        raise MessageParseError("FromUserName is not an OpenID")
    create_time = _int(fields, "CreateTime", required=True) or 0
    msg_id_value = _int(fields, "MsgId")
    common = dict(
        to_user=to_user,
        from_user=from_user,
        create_time=create_time,
        msg_type=msg_type,
        msg_id=str(msg_id_value) if msg_id_value is not None else None,
        raw=fields,
    )
    if msg_type == "text":
        return TextMessage(**common, content=fields.get("Content", ""))
    if msg_type == "voice":
        return VoiceMessage(
            **common,
            media_id=fields.get("MediaId", ""),
            format=fields.get("Format", ""),
            recognition=fields.get("Recognition", ""),
        )
    if msg_type == "location":
        return LocationMessage(
            **common,
            latitude=_coordinate(fields, "Location_X", 90.0),
            longitude=_coordinate(fields, "Location_Y", 180.0),
            scale=_int(fields, "Scale"),
            label=fields.get("Label", ""),
        )
    if msg_type in MEDIA_TYPES:
        return MediaMessage(
            **common,
            media_id=fields.get("MediaId", ""),
            url=fields.get("PicUrl", "") or fields.get("Url", ""),
            title=fields.get("Title", ""),
            description=fields.get("Description", ""),
        )
    if msg_type != "event":
        return UnknownMessage(**common)
    event = fields.get("Event", "")
    key = fields.get("EventKey", "")
    common_event = dict(common, event=event, event_key=key)
    lowered = event.lower()
    if lowered == "subscribe":
        scene = key[len("qrscene_") :] if key.startswith("qrscene_") else ""
        return SubscribeEvent(**common_event, scene=scene, ticket=fields.get("Ticket", ""))
    if lowered == "unsubscribe":
        return UnsubscribeEvent(**common_event)
    if lowered == "scan":
        return ScanEvent(**common_event, scene=key, ticket=fields.get("Ticket", ""))
    if lowered == "click":
        return ClickEvent(**common_event)
    if lowered == "view":
        return ViewEvent(**common_event, url=key)
    if lowered == "location":
        return LocationEvent(
            **common_event,
            latitude=_coordinate(fields, "Latitude", 90.0),
            longitude=_coordinate(fields, "Longitude", 180.0),
            precision=_optional_float(fields, "Precision"),
        )
    return UnknownEvent(**common_event)


def parse_message(body: Union[bytes, str]) -> Message:
    return message_from_fields(parse_xml_fields(body))


# ---------------------------------------------------------------------------------------------
# Replies


def cdata(text: str) -> str:
    """A CDATA section that survives a "]]>" inside the text (split across two sections)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters), keep everything else."""
    return _XML_INVALID.sub("", text)


def render_text_reply(
    to_user: str, from_user: str, content: str, create_time: Optional[int] = None
) -> str:
    """A passive text reply; `to_user` is the user's OpenID, `from_user` the account's gh_ id."""
    create_time = int(time.time()) if create_time is None else int(create_time)
    return (
        "<xml>"
        f"<ToUserName>{cdata(xml_safe(to_user))}</ToUserName>"
        f"<FromUserName>{cdata(xml_safe(from_user))}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(xml_safe(content))}</Content>"
        "</xml>"
    )


def reply_to(message: InboundMessage, content: str, create_time: Optional[int] = None) -> str:
    """A passive text reply to `message` (To/From swapped)."""
    return render_text_reply(message.from_user, message.to_user, content, create_time)


def render_encrypted_envelope(encrypt: str, signature: str, timestamp: str, nonce: str) -> str:
    """The safe-mode response body around an encrypted reply."""
    return (
        "<xml>"
        f"<Encrypt>{cdata(encrypt)}</Encrypt>"
        f"<MsgSignature>{cdata(signature)}</MsgSignature>"
        f"<TimeStamp>{int(timestamp)}</TimeStamp>"
        f"<Nonce>{cdata(nonce)}</Nonce>"
        "</xml>"
    )
