"""WeChat official-account signatures and safe-mode (AES) message encryption.

Implements the official scheme ("消息加解密技术方案") with the `cryptography` package:

* URL signature: sha1 over the lexicographically sorted token/timestamp/nonce strings.
* msg_signature: the same over token/timestamp/nonce/Encrypt.
* AES-256-CBC, key = base64decode(EncodingAESKey + "="), IV = key[:16], PKCS#7 padding to a
  multiple of 32 bytes; plaintext frame = random16 | uint32 big-endian byte length | msg | appid.

Unlike the official samples we validate the padding bytes, the frame length and the appid, and
compare signatures in constant time. Every failure raises `WeChatCryptoError` with an official
error code, so callers never see a bare ValueError/IndexError from malformed input.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from typing import Callable, Iterable, Optional, Tuple

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_SIZE = 32  # WeChat pads to 32 bytes, not the AES block size of 16
_B64_RE = re.compile(rb"^[A-Za-z0-9+/]*={0,2}$")
_AES_KEY_RE = re.compile(r"^[A-Za-z0-9]{43}$")

# Official WXBizMsgCrypt error codes.
VALIDATE_SIGNATURE_ERROR = -40001
PARSE_XML_ERROR = -40002
ILLEGAL_AES_KEY = -40004
VALIDATE_APPID_ERROR = -40005
ENCRYPT_AES_ERROR = -40006
DECRYPT_AES_ERROR = -40007
ILLEGAL_BUFFER = -40008
DECODE_BASE64_ERROR = -40010

RandomSource = Callable[[int], bytes]


class WeChatCryptoError(Exception):
    """A signature, key, ciphertext or frame did not pass the checks."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


def _sha1_sorted(parts: Iterable[str]) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def url_signature(token: str, timestamp: str, nonce: str) -> str:
    """The `signature` query parameter WeChat sends on GET verification and on every POST."""
    return _sha1_sorted((token, str(timestamp), str(nonce)))


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """The `msg_signature` over the ciphertext (safe and compatible modes)."""
    return _sha1_sorted((token, str(timestamp), str(nonce), encrypt))


def signatures_equal(expected: str, given: Optional[str]) -> bool:
    """Constant-time comparison; a missing or non-ASCII value never matches."""
    if not given:
        return False
    try:
        return hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii"))
    except UnicodeEncodeError:
        return False


def check_url_signature(token: str, signature: Optional[str], timestamp: str, nonce: str) -> bool:
    return signatures_equal(url_signature(token, timestamp, nonce), signature)


def check_msg_signature(
    token: str, signature: Optional[str], timestamp: str, nonce: str, encrypt: str
) -> bool:
    return signatures_equal(msg_signature(token, timestamp, nonce, encrypt), signature)


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey of the WeChat console."""
    if not isinstance(encoding_aes_key, str) or not _AES_KEY_RE.match(encoding_aes_key):
        raise WeChatCryptoError(ILLEGAL_AES_KEY, "EncodingAESKey must be 43 letters/digits")
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:  # pragma: no cover - 43 base64 chars always give 32 bytes
        raise WeChatCryptoError(ILLEGAL_AES_KEY, "EncodingAESKey does not decode to 32 bytes")
    return key


def pkcs7_pad(data: bytes, block_size: int = BLOCK_SIZE) -> bytes:
    amount = block_size - len(data) % block_size
    return data + bytes([amount]) * amount


def pkcs7_unpad(data: bytes, block_size: int = BLOCK_SIZE) -> bytes:
    if not data or len(data) % 16:
        raise WeChatCryptoError(ILLEGAL_BUFFER, "ciphertext length is not a multiple of 16")
    amount = data[-1]
    if amount < 1 or amount > block_size or amount > len(data):
        raise WeChatCryptoError(ILLEGAL_BUFFER, "bad PKCS#7 padding value")
    if not hmac.compare_digest(data[-amount:], bytes([amount]) * amount):
        raise WeChatCryptoError(ILLEGAL_BUFFER, "bad PKCS#7 padding bytes")
    return data[:-amount]


class WeChatMessageCrypto:
    """Encrypts replies and decrypts requests for one official account."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        appid: str,
        random_source: RandomSource = os.urandom,
    ) -> None:
        self.token = token
        self.appid = appid
        self._key = decode_aes_key(encoding_aes_key)
        self._iv = self._key[:16]
        self._random = random_source

    # -- raw AES frame -------------------------------------------------------------------------

    def encrypt(self, message: str, random16: Optional[bytes] = None) -> str:
        """Base64 ciphertext of `message` (UTF-8); `random16` fixes the prefix for tests."""
        prefix = random16 if random16 is not None else self._random(16)
        if len(prefix) != 16:
            raise WeChatCryptoError(ENCRYPT_AES_ERROR, "the random prefix must be 16 bytes")
        body = message.encode("utf-8")
        frame = prefix + struct.pack(">I", len(body)) + body + self.appid.encode("utf-8")
        padded = pkcs7_pad(frame)
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._iv)).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        return base64.b64encode(ciphertext).decode("ascii")

    def decrypt(self, encrypt: str) -> str:
        """The message inside a base64 ciphertext, after padding, length and appid checks."""
        message, _ = self.decrypt_frame(encrypt)
        return message

    def decrypt_frame(self, encrypt: str) -> Tuple[str, bytes]:
        """(message, random16) of a ciphertext; raises WeChatCryptoError on any defect."""
        if not isinstance(encrypt, str):
            raise WeChatCryptoError(DECODE_BASE64_ERROR, "Encrypt must be text")
        raw = encrypt.strip().encode("ascii", errors="replace")
        if not raw or not _B64_RE.match(raw) or len(raw) % 4:
            raise WeChatCryptoError(DECODE_BASE64_ERROR, "Encrypt is not base64")
        try:
            ciphertext = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WeChatCryptoError(DECODE_BASE64_ERROR, "Encrypt is not base64") from exc
        if not ciphertext or len(ciphertext) % 16:
            raise WeChatCryptoError(ILLEGAL_BUFFER, "ciphertext length is not a multiple of 16")
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._iv)).decryptor()
        try:
            padded = decryptor.update(ciphertext) + decryptor.finalize()
        except ValueError as exc:  # pragma: no cover - length already checked
            raise WeChatCryptoError(DECRYPT_AES_ERROR, "AES decryption failed") from exc
        frame = pkcs7_unpad(padded)
        if len(frame) < 20:
            raise WeChatCryptoError(ILLEGAL_BUFFER, "frame shorter than its header")
        (length,) = struct.unpack(">I", frame[16:20])
        if 20 + length > len(frame):
            raise WeChatCryptoError(ILLEGAL_BUFFER, "frame length field exceeds the frame")
        body = frame[20 : 20 + length]
        appid = frame[20 + length :]
        if not hmac.compare_digest(appid, self.appid.encode("utf-8")):
            raise WeChatCryptoError(VALIDATE_APPID_ERROR, "appid in the frame does not match")
        try:
            return body.decode("utf-8"), frame[:16]
        except UnicodeDecodeError as exc:
            raise WeChatCryptoError(ILLEGAL_BUFFER, "message is not UTF-8") from exc

    # -- signed messages -----------------------------------------------------------------------

    def decrypt_signed(self, encrypt: str, signature: Optional[str], timestamp: str, nonce: str) -> str:
        """Verify `msg_signature` over the ciphertext, then decrypt it."""
        if not check_msg_signature(self.token, signature, timestamp, nonce, encrypt):
            raise WeChatCryptoError(VALIDATE_SIGNATURE_ERROR, "msg_signature does not match")
        return self.decrypt(encrypt)

    def encrypt_signed(
        self, message: str, timestamp: str, nonce: str, random16: Optional[bytes] = None
    ) -> Tuple[str, str]:
        """(Encrypt, MsgSignature) for a reply."""
        encrypt = self.encrypt(message, random16)
        return encrypt, msg_signature(self.token, timestamp, nonce, encrypt)
