"""Password hashing with argon2id (argon2-cffi), parameters from the app config.

`verify` also says when a stored hash was made with older parameters, so callers rehash on login.
"""
from contextlib import suppress
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                          parallelism=parallelism, type=Type.ID)


def hasher() -> PasswordHasher:
    cfg = current_app.config
    return _hasher(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Check a password; returns (ok, new_hash) where new_hash is set when a rehash is due.

    With no stored hash a dummy verification still runs, so an unknown account costs the same
    time as a wrong password and response timing reveals nothing.
    """
    ph = hasher()
    if not stored_hash:
        with suppress(VerificationError):
            ph.verify(_dummy_hash(ph), password + "\0")
        return False, None
    try:
        ph.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False, None
    return True, (ph.hash(password) if ph.check_needs_rehash(stored_hash) else None)


_DUMMY: dict[int, str] = {}


def _dummy_hash(ph: PasswordHasher) -> str:
    key = id(ph)
    if key not in _DUMMY:
        _DUMMY[key] = ph.hash("dummy password for timing equality")
    return _DUMMY[key]
