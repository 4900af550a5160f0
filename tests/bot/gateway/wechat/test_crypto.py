"""Safe-mode crypto against the official vectors and wechatpy as the independent counterpart."""
from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest
import xmltodict
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from bot.gateway.wechat.crypto import (
    DECODE_BASE64_ERROR,
    ILLEGAL_AES_KEY,
    ILLEGAL_BUFFER,
    VALIDATE_APPID_ERROR,
    VALIDATE_SIGNATURE_ERROR,
    WeChatCryptoError,
    WeChatMessageCrypto,
    check_url_signature,
    msg_signature,
    pkcs7_pad,
    url_signature,
)

VECTORS_PATH = Path("/work/shared/reference/wechat_test_vectors.json")
VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
DECRYPT_VECTORS = ["C_decrypt", "D_decrypt", "E_decrypt"]


def test_url_signature_official_vector() -> None:
    v = VECTORS["url_verify"]
    assert url_signature(v["token"], v["timestamp"], v["nonce"]) == v["signature"]
    assert check_url_signature(v["token"], v["signature"], v["timestamp"], v["nonce"])
    assert check_url_signature(v["token"], v["signature"].upper(), v["timestamp"], v["nonce"])
    assert not check_url_signature(v["token"], v["signature"][:-1] + "0", v["timestamp"], v["nonce"])
    assert not check_url_signature(v["token"], None, v["timestamp"], v["nonce"])
    assert not check_url_signature(v["token"], "签名", v["timestamp"], v["nonce"])


@pytest.mark.parametrize("name", DECRYPT_VECTORS)
def test_official_ciphertexts_decrypt(name: str) -> None:
    v = VECTORS[name]
    crypto = WeChatMessageCrypto(v["token"], v["encoding_aes_key"], v["appid"])
    assert msg_signature(v["token"], v["timestamp"], v["nonce"], v["encrypt"]) == v["msg_signature"]
    plain = crypto.decrypt_signed(v["encrypt"], v["msg_signature"], v["timestamp"], v["nonce"])
    assert plain == v["plaintext"]
    assert "\n" in plain  # the newlines between elements are part of the message
    message, random16 = crypto.decrypt_frame(v["encrypt"])
    if "random" in v:
        assert random16 == v["random"].encode()
        # our encryption with the same randomness reproduces the official ciphertext exactly
        assert crypto.encrypt(message, random16=random16) == v["encrypt"]


def test_official_encrypt_a1_reproduced() -> None:
    v = VECTORS["A1_encrypt"]
    crypto = WeChatMessageCrypto("pamtest", v["encoding_aes_key"], v["appid"])
    assert crypto.encrypt(v["message"], random16=v["random"].encode()) == v["ciphertext"]
    # the injectable random source gives the same result
    fixed = WeChatMessageCrypto(
        "pamtest", v["encoding_aes_key"], v["appid"], random_source=lambda n: v["random"].encode()[:n]
    )
    assert fixed.encrypt(v["message"]) == v["ciphertext"]
    assert crypto.decrypt(v["ciphertext"]) == v["message"]


def test_official_reply_e_reproduced_with_signature() -> None:
    v = VECTORS["E_reply_encrypt"]
    crypto = WeChatMessageCrypto(v["token"], v["encoding_aes_key"], v["appid"])
    encrypt, signature = crypto.encrypt_signed(
        v["message"], v["timestamp"], v["nonce"], random16=v["random"].encode()
    )
    assert encrypt == v["ciphertext"]
    assert signature == v["msg_signature"]


def test_random_prefix_is_random_by_default() -> None:
    v = VECTORS["A1_encrypt"]
    crypto = WeChatMessageCrypto("pamtest", v["encoding_aes_key"], v["appid"])
    assert crypto.encrypt("同一句话") != crypto.encrypt("同一句话")


@pytest.mark.parametrize("name", DECRYPT_VECTORS)
def test_wechatpy_decrypts_official_vectors_too(name: str) -> None:
    # sanity check that the counterpart agrees with the vectors, so it is a valid oracle
    v = VECTORS[name]
    wx = WeChatCrypto(v["token"], v["encoding_aes_key"], v["appid"])
    body = f"<xml><Encrypt><![CDATA[{v['encrypt']}]]></Encrypt></xml>"
    assert wx.decrypt_message(body, v["msg_signature"], v["timestamp"], v["nonce"]) == v["plaintext"]


@pytest.mark.parametrize(
    "message",
    ["你好，我想找工作", "", "a" * 31, "b" * 32, "职" * 1000, "<xml><Content><![CDATA[x]]></Content></xml>"],
)
def test_round_trip_with_wechatpy_both_ways(message: str) -> None:
    token, key, appid = "zhinanToken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx1234567890abcdef"
    ours = WeChatMessageCrypto(token, key, appid)
    wx = WeChatCrypto(token, key, appid)
    # wechatpy (as WeChat) encrypts -> we decrypt
    envelope = xmltodict.parse(wx.encrypt_message(message, "12345", "1700000000"))["xml"]
    assert (
        ours.decrypt_signed(envelope["Encrypt"], envelope["MsgSignature"], "1700000000", "12345")
        == message
    )
    # we encrypt -> wechatpy decrypts and verifies the signature and appid
    encrypt, sig = ours.encrypt_signed(message, "1700000001", "67890")
    body = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    assert wx.decrypt_message(body, sig, "1700000001", "67890") == message
    with pytest.raises(InvalidSignatureException):
        wx.decrypt_message(body, sig, "1700000002", "67890")


def _crypto_c() -> WeChatMessageCrypto:
    v = VECTORS["C_decrypt"]
    return WeChatMessageCrypto(v["token"], v["encoding_aes_key"], v["appid"])


def test_tampered_signature_rejected() -> None:
    v = VECTORS["C_decrypt"]
    bad = ("0" if v["msg_signature"][0] != "0" else "1") + v["msg_signature"][1:]
    with pytest.raises(WeChatCryptoError) as err:
        _crypto_c().decrypt_signed(v["encrypt"], bad, v["timestamp"], v["nonce"])
    assert err.value.code == VALIDATE_SIGNATURE_ERROR
    with pytest.raises(WeChatCryptoError):
        _crypto_c().decrypt_signed(v["encrypt"], v["msg_signature"], v["timestamp"], "1")


def test_wrong_appid_rejected() -> None:
    v = VECTORS["C_decrypt"]
    other = WeChatMessageCrypto(v["token"], v["encoding_aes_key"], "wx0000000000000000")
    with pytest.raises(WeChatCryptoError) as err:
        other.decrypt(v["encrypt"])
    assert err.value.code == VALIDATE_APPID_ERROR
    # an appid that is a prefix of ours is no match either
    short = WeChatMessageCrypto(v["token"], v["encoding_aes_key"], v["appid"][:-1])
    with pytest.raises(WeChatCryptoError):
        short.decrypt(v["encrypt"])


def _raw_encrypt(key_b64: str, plaintext: bytes) -> str:
    key = base64.b64decode(key_b64 + "=")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plaintext) + enc.finalize()).decode()


@pytest.mark.parametrize(
    "tail",
    [
        bytes([0]) * 32,  # padding value 0
        bytes([33]) * 32,  # padding value > 32
        bytes([5, 5, 5, 9, 5]).rjust(32, b"\x01"),  # inconsistent padding bytes
    ],
)
def test_bad_padding_rejected(tail: bytes) -> None:
    v = VECTORS["C_decrypt"]
    body = b"r" * 16 + struct.pack(">I", 3) + b"abc" + v["appid"].encode()
    body = body + b"x" * ((-len(body)) % 32)
    ciphertext = _raw_encrypt(v["encoding_aes_key"], body + tail)
    with pytest.raises(WeChatCryptoError) as err:
        _crypto_c().decrypt(ciphertext)
    assert err.value.code == ILLEGAL_BUFFER


def test_length_field_beyond_frame_rejected() -> None:
    v = VECTORS["C_decrypt"]
    frame = b"r" * 16 + struct.pack(">I", 10_000) + b"abc" + v["appid"].encode()
    with pytest.raises(WeChatCryptoError) as err:
        _crypto_c().decrypt(_raw_encrypt(v["encoding_aes_key"], pkcs7_pad(frame)))
    assert err.value.code == ILLEGAL_BUFFER


@pytest.mark.parametrize(
    "encrypt", ["not base64 at all!", "YWJj", "====", "", "5Lit5paH", "QUJD\u4e2d", "QUJDRA=", "A" * 15 + "="]
)
def test_non_base64_or_truncated_rejected(encrypt: str) -> None:
    with pytest.raises(WeChatCryptoError) as err:
        _crypto_c().decrypt(encrypt)
    assert err.value.code in (DECODE_BASE64_ERROR, ILLEGAL_BUFFER)


def test_illegal_aes_key_rejected() -> None:
    for key in ["short", "a" * 44, "abcdefghijklmnopqrstuvwxyz0123456789ABCDE+/"]:
        with pytest.raises(WeChatCryptoError) as err:
            WeChatMessageCrypto("t", key, "wx1")
        assert err.value.code == ILLEGAL_AES_KEY
