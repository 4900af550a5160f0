"""The user profile: what a job seeker told Zhinan, kept so it need not be asked again.

Stored as one Redis hash per OpenID. Everything personal about a user lives under keys
that `personal_data_keys()` can enumerate, so that an unsubscribe deletes it all.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import redis.asyncio as aioredis

from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("profile",)

# Profile fields other features read; free-form extras are allowed too.
KNOWN_FIELDS = (
    "name",
    "phone",
    "identity",
    "city",
    "district",
    "school",
    "major",
    "education",
    "graduation_year",
    "age",
    "holland_code",
    "qr_scene",
    "consent_at",
)

# Per-user key families (under the settings prefix) that hold personal data. Features that
# store personal data per OpenID register their family here (see `register_personal_key`).
# "tracker"/"trackermeta" are the Rasa conversation (bot/rasa_server/tracker_store.py).
_PERSONAL_KEY_FAMILIES: set = {"profile", "tracker", "trackermeta"}


def register_personal_key(family: str) -> None:
    """Declare that `<prefix>:<family>:<openid>` holds personal data to delete on unsubscribe."""
    _PERSONAL_KEY_FAMILIES.add(family)


class ProfileStore:
    """Reads and writes user profiles in Redis."""

    def __init__(self, redis: aioredis.Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings

    def _key(self, openid: str) -> str:
        return self._settings.key("profile", openid)

    async def get(self, openid: str) -> Dict[str, str]:
        return await self._redis.hgetall(self._key(openid))

    async def update(self, openid: str, fields: Mapping[str, Optional[object]]) -> None:
        """Set the given fields; a value of None removes that field."""
        to_set = {k: str(v) for k, v in fields.items() if v is not None and v != ""}
        to_del = [k for k, v in fields.items() if v is None]
        async with self._redis.pipeline(transaction=True) as pipe:
            if to_set:
                pipe.hset(self._key(openid), mapping=to_set)
            if to_del:
                pipe.hdel(self._key(openid), *to_del)
            await pipe.execute()

    async def all_profiles(self, batch: int = 500) -> List[Tuple[str, Dict[str, str]]]:
        """(openid, profile) of every user with a profile (a SCAN: for batch jobs, not turns)."""
        prefix = self._key("")
        openids = [
            key[len(prefix):]
            async for key in self._redis.scan_iter(match=prefix + "*", count=1000)
            if ":" not in key[len(prefix):]
        ]
        out: List[Tuple[str, Dict[str, str]]] = []
        for start in range(0, len(openids), batch):
            chunk = openids[start : start + batch]
            async with self._redis.pipeline(transaction=False) as pipe:
                for openid in chunk:
                    pipe.hgetall(self._key(openid))
                out.extend(zip(chunk, await pipe.execute()))
        return out

    def personal_data_keys(self, openid: str) -> Iterable[str]:
        return [self._settings.key(family, openid) for family in sorted(_PERSONAL_KEY_FAMILIES)]

    async def delete_personal_data(self, openid: str) -> int:
        """Delete every registered per-user key of this OpenID; returns how many existed."""
        return await self._redis.delete(*self.personal_data_keys(openid))
