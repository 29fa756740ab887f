"""Where editors and readers are: the state behind «Сейчас редактирует: Имя».

One process keeps it in memory. With ``KB_MESSAGE_QUEUE`` (several processes or machines)
it lives in Redis, so every process sees every editor: per page a sorted set of client ids
scored by last-seen time plus a hash of their details. Each process refreshes its own
clients every ``HEARTBEAT_SECONDS``; entries of a process that died fade after
``STALE_SECONDS``.
"""

import json
import threading
import time
from dataclasses import asdict, dataclass

import redis

HEARTBEAT_SECONDS = 20
STALE_SECONDS = 3 * HEARTBEAT_SECONDS
KEY_PREFIX = "kb:presence:"


@dataclass
class Present:
    slug: str
    name: str
    organization: str | None
    editing: bool


class MemoryPresence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._present: dict[str, Present] = {}

    def put(self, sid: str, present: Present) -> None:
        with self._lock:
            self._present[sid] = present

    def get(self, sid: str) -> Present | None:
        with self._lock:
            return self._present.get(sid)

    def remove(self, sid: str) -> Present | None:
        with self._lock:
            return self._present.pop(sid, None)

    def on_page(self, slug: str) -> list[tuple[str, Present]]:
        with self._lock:
            return [(sid, p) for sid, p in self._present.items() if p.slug == slug]

    def all(self) -> list[tuple[str, Present]]:
        with self._lock:
            return list(self._present.items())

    def heartbeat(self) -> None:
        """Nothing fades in one process: disconnects are always seen."""


class RedisPresence:
    def __init__(self, url: str) -> None:
        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self._local = MemoryPresence()  # this process's clients, for heartbeats and leaves

    @staticmethod
    def _keys(slug: str) -> tuple[str, str]:
        return KEY_PREFIX + "seen:" + slug, KEY_PREFIX + "who:" + slug

    def put(self, sid: str, present: Present) -> None:
        self._local.put(sid, present)
        seen, who = self._keys(present.slug)
        with self.redis.pipeline() as pipe:
            pipe.zadd(seen, {sid: time.time()})
            pipe.hset(who, sid, json.dumps(asdict(present), ensure_ascii=False))
            pipe.expire(seen, STALE_SECONDS * 2)
            pipe.expire(who, STALE_SECONDS * 2)
            pipe.execute()

    def get(self, sid: str) -> Present | None:
        return self._local.get(sid)

    def remove(self, sid: str) -> Present | None:
        present = self._local.remove(sid)
        if present is not None:
            seen, who = self._keys(present.slug)
            with self.redis.pipeline() as pipe:
                pipe.zrem(seen, sid)
                pipe.hdel(who, sid)
                pipe.execute()
        return present

    def on_page(self, slug: str) -> list[tuple[str, Present]]:
        seen, who = self._keys(slug)
        with self.redis.pipeline() as pipe:
            pipe.zremrangebyscore(seen, "-inf", time.time() - STALE_SECONDS)
            pipe.zrange(seen, 0, -1)
            _removed, sids = pipe.execute()
        if not sids:
            return []
        details = self.redis.hmget(who, sids)
        return [
            (sid, Present(**json.loads(raw)))
            for sid, raw in zip(sids, details, strict=True)
            if raw is not None
        ]

    def heartbeat(self) -> None:
        for sid, present in self._local.all():
            self.put(sid, present)


def presence_store(url: str | None) -> MemoryPresence | RedisPresence:
    return RedisPresence(url) if url else MemoryPresence()
