"""How a log line names a user: a short keyed hash of the OpenID, never the OpenID itself.

The key is a secret setting (the console secret), so nobody holding the logs can turn a list
of OpenIDs into log ids; the same OpenID gives the same id in every process, so one user's
lines can still be followed across the gateway and Rasa.
"""
from __future__ import annotations

import hashlib
import hmac

_DOMAIN = b"zhinan-log-id\x00"  # keeps these hashes apart from any other use of the secret


def log_id(openid: str, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), _DOMAIN + str(openid).encode("utf-8"), hashlib.sha256)
    return "u-" + digest.hexdigest()[:12]
