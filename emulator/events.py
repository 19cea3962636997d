"""ActionTrail event store: events kept sorted by time per (account, region), searched with bisect.

Persistence is an append-only JSON Lines file next to the state file: a new event costs one appended
line, not a rewrite of 100,000 events. Each line is ``{"a": account, "r": region, "t": epoch_ms, "e": event}``.
"""

import bisect
import json
import os

INF_SEQ = float("inf")


class _Bucket:
    __slots__ = ("keys", "events")

    def __init__(self):
        self.keys = []    # sorted (epoch_ms, seq)
        self.events = []  # parallel to keys


class EventStore:
    def __init__(self):
        self.buckets = {}
        self.persistent = False  # set by the state when a file backs the store
        self.seq = 0
        self.pending = []      # JSON lines not yet appended to the file
        self.rewrite = False   # the file must be rewritten (reset)
        self.count = 0

    # ------------------------------------------------------------ mutation

    def clear(self):
        self.buckets = {}
        self.pending = []
        self.rewrite = True
        self.count = 0

    def add(self, account_id, region, epoch_ms, event, persist=True):
        bucket = self.buckets.get((account_id, region))
        if bucket is None:
            bucket = self.buckets[(account_id, region)] = _Bucket()
        self.seq += 1
        key = (int(epoch_ms), self.seq)
        if not bucket.keys or key >= bucket.keys[-1]:
            bucket.keys.append(key)
            bucket.events.append(event)
        else:
            i = bisect.bisect_right(bucket.keys, key)
            bucket.keys.insert(i, key)
            bucket.events.insert(i, event)
        self.count += 1
        if persist and self.persistent:
            self.pending.append(_line(account_id, region, epoch_ms, event))

    def add_many(self, items, persist=True):
        """items: iterable of (account_id, region, epoch_ms, event); one sort per touched bucket."""
        touched = {}
        lines = []
        persist = persist and self.persistent
        for account_id, region, epoch_ms, event in items:
            self.seq += 1
            touched.setdefault((account_id, region), []).append(((int(epoch_ms), self.seq), event))
            if persist:
                lines.append(_line(account_id, region, epoch_ms, event))
        for bkey, new in touched.items():
            bucket = self.buckets.get(bkey)
            if bucket is None:
                bucket = self.buckets[bkey] = _Bucket()
            merged = list(zip(bucket.keys, bucket.events)) + new
            merged.sort(key=lambda kv: kv[0])
            bucket.keys = [k for k, _ in merged]
            bucket.events = [e for _, e in merged]
            self.count += len(new)
        self.pending.extend(lines)
        return sum(len(v) for v in touched.values())

    # ------------------------------------------------------------ queries

    def query(self, account_id, region, start_ms, end_ms, backward=True, cursor=None, predicate=None, limit=50):
        """Events with start_ms <= time <= end_ms, newest first when backward.

        cursor: the (epoch_ms, seq) key of the last event of the previous page (exclusive).
        Returns (events, next_cursor or None); next_cursor is set only when another match exists.
        """
        bucket = self.buckets.get((account_id, region))
        if bucket is None or end_ms < start_ms:
            return [], None
        keys = bucket.keys
        lo = bisect.bisect_left(keys, (start_ms, -1))
        hi = bisect.bisect_right(keys, (end_ms, INF_SEQ))
        out = []
        last_key = None
        if backward:
            if cursor is not None:
                hi = min(hi, bisect.bisect_left(keys, tuple(cursor)))
            rng = range(hi - 1, lo - 1, -1)
        else:
            if cursor is not None:
                lo = max(lo, bisect.bisect_right(keys, tuple(cursor)))
            rng = range(lo, hi)
        for i in rng:
            ev = bucket.events[i]
            if predicate is not None and not predicate(ev):
                continue
            if len(out) == limit:
                return out, list(last_key)
            out.append(ev)
            last_key = keys[i]
        return out, None

    def all_events(self, account_id=None, region=None):
        for (acct, reg), bucket in self.buckets.items():
            if account_id is not None and acct != account_id:
                continue
            if region is not None and reg != region:
                continue
            for key, ev in zip(bucket.keys, bucket.events):
                yield acct, reg, key[0], ev

    # ------------------------------------------------------------ persistence

    def load(self, path):
        self.clear()
        self.rewrite = False
        if not path or not os.path.exists(path):
            return
        items = []
        with open(path, "r", encoding="utf-8") as fh:
            for raw in fh:
                raw = raw.strip()
                if not raw:
                    continue
                try:
                    rec = json.loads(raw)
                except ValueError:
                    # A torn last line after a crash mid-append: everything before it is intact.
                    continue
                items.append((rec["a"], rec["r"], rec["t"], rec["e"]))
        self.add_many(items, persist=False)

    def flush(self, path):
        """Append the new lines; after clear() (reset) start a new file: every event then is in pending."""
        if not path:
            self.pending = []
            self.rewrite = False
            return
        if self.rewrite or self.pending:
            with open(path, "w" if self.rewrite else "a", encoding="utf-8") as fh:
                fh.write("".join(self.pending))
            self.pending = []
            self.rewrite = False


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _line(account_id, region, epoch_ms, event):
    return _ENCODER.encode({"a": account_id, "r": region, "t": int(epoch_ms), "e": event}) + "\n"
