"""XML parsing and replies; wechatpy parses what we render."""
from __future__ import annotations

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from wechatpy import parse_message as wx_parse

from bot.gateway.wechat import messages as m

GH = "gh_abc"


def _xml(body: str, openid: str = "oUser_1") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{GH}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>1700000000</CreateTime>{body}</xml>"
    )


def test_parse_official_text_with_newlines() -> None:
    body = (
        "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]>"
        "</FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n"
        "<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>"
    )
    msg = m.parse_message(body)
    assert isinstance(msg, m.TextMessage)
    assert (msg.content, msg.msg_id, msg.create_time) == ("abcdteT", "6054768590064713728", 1409735668)
    assert msg.dedupe_id == "m6054768590064713728"


def test_parse_every_type() -> None:
    voice = m.parse_message(_xml("<MsgType>voice</MsgType><MediaId>x</MediaId><Format>amr</Format><Recognition><![CDATA[腾讯微信团队]]></Recognition><MsgId>1</MsgId>"))
    assert isinstance(voice, m.VoiceMessage) and voice.recognition == "腾讯微信团队"
    loc = m.parse_message(_xml("<MsgType>location</MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>2</MsgId>"))
    assert isinstance(loc, m.LocationMessage)
    assert (loc.latitude, loc.longitude, loc.scale, loc.label) == (23.134521, 113.358803, 20, "位置信息")
    for t in m.MEDIA_TYPES:
        assert isinstance(m.parse_message(_xml(f"<MsgType>{t}</MsgType><MsgId>3</MsgId>")), m.MediaMessage)
    sub = m.parse_message(_xml("<MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_123123</EventKey><Ticket>T</Ticket>"))
    assert isinstance(sub, m.SubscribeEvent) and sub.scene == "123123" and sub.ticket == "T"
    assert sub.dedupe_id.startswith("e") and "oUser_1" not in sub.dedupe_id  # hashed user/time/event/key
    plain_sub = m.parse_message(_xml("<MsgType>event</MsgType><Event>subscribe</Event>"))
    assert isinstance(plain_sub, m.SubscribeEvent) and plain_sub.scene == ""
    assert isinstance(m.parse_message(_xml("<MsgType>event</MsgType><Event>unsubscribe</Event>")), m.UnsubscribeEvent)
    scan = m.parse_message(_xml("<MsgType>event</MsgType><Event>SCAN</Event><EventKey>123123</EventKey>"))
    assert isinstance(scan, m.ScanEvent) and scan.scene == "123123"
    click = m.parse_message(_xml("<MsgType>event</MsgType><Event>CLICK</Event><EventKey>ZN_HUMAN</EventKey>"))
    assert isinstance(click, m.ClickEvent) and click.event_key == "ZN_HUMAN"
    view = m.parse_message(_xml("<MsgType>event</MsgType><Event>VIEW</Event><EventKey>https://a.b/</EventKey>"))
    assert isinstance(view, m.ViewEvent) and view.url == "https://a.b/"
    le = m.parse_message(_xml("<MsgType>event</MsgType><Event>LOCATION</Event><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>"))
    assert isinstance(le, m.LocationEvent) and (le.latitude, le.longitude) == (23.137466, 113.352425)
    assert isinstance(m.parse_message(_xml("<MsgType>event</MsgType><Event>kf_close_session</Event>")), m.UnknownEvent)
    assert isinstance(m.parse_message(_xml("<MsgType>miniprogrampage</MsgType><MsgId>9</MsgId>")), m.UnknownMessage)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not xml",
        "<xml><ToUserName>a</ToUserName>",
        "<root><a>1</a></root>",
        _xml("<MsgType>text</MsgType>").replace("1700000000", "soon"),
        _xml("<MsgType>location</MsgType><Location_X>nan</Location_X><Location_Y>1</Location_Y>"),
        _xml("<MsgType>location</MsgType><Location_X>91</Location_X><Location_Y>1</Location_Y>"),
        _xml("<MsgType>text</MsgType>", openid="o<bad>"),
        _xml("<MsgType>text</MsgType>", openid="o user"),
        '<!DOCTYPE xml [<!ENTITY a "b">]><xml/>',
        '<!doctype xml SYSTEM "http://evil/x.dtd"><xml/>',
        "<xml>&ent;</xml>",
    ],
)
def test_bad_bodies_raise_parse_error(body: str) -> None:
    with pytest.raises(m.MessageParseError):
        m.parse_message(body)


def test_reply_parsed_by_wechatpy() -> None:
    xml = m.render_text_reply("oUser", GH, "你好\n第二行 ]]> <tag> & 完", create_time=1700000000)
    reply = wx_parse(xml)
    assert reply.target == "oUser" and reply.source == GH
    assert reply.content == "你好\n第二行 ]]> <tag> & 完"


def test_encrypted_envelope_shape() -> None:
    xml = m.render_encrypted_envelope("ENC", "SIG", "1409304348", "xxxxxx")
    fields = m.parse_xml_fields(xml)
    assert fields == {"Encrypt": "ENC", "MsgSignature": "SIG", "TimeStamp": "1409304348", "Nonce": "xxxxxx"}


@hsettings(max_examples=300, deadline=None)
@given(st.text())
def test_cdata_reply_round_trip_property(content: str) -> None:
    xml = m.render_text_reply("oU", GH, content, 1)
    # XML parsers normalise CR/CRLF to LF (WeChat shows the same line break)
    expected = m.xml_safe(content).replace("\r\n", "\n").replace("\r", "\n").strip()
    assert m.parse_xml_fields(xml)["Content"] == expected


@hsettings(max_examples=1000, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_parser_only_raises_parse_error(body) -> None:
    try:
        m.parse_message(body)
    except m.MessageParseError:
        pass
