"""Shared pieces of the end-to-end test: the records to put and the checks
run on what came back. Used by cli_check.py (the AWS CLI half, driven by
run.sh) and boto3_roundtrip.py. Python 3 standard library only.

Every check prints one line, "ok - <what>" or "FAIL - <what>: <detail>";
run.sh counts those lines for the summary.
"""

import hashlib
import sys

NUM_RECORDS = 1000
NUM_KEYS = 40
NUM_SHARDS = 4
MAX_HASH_KEY = 2**128 - 1


class Checker:
    """Counts and prints checks."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok - %s: %s" % (self.prefix, what), flush=True)
        else:
            self.failed += 1
            msg = "FAIL - %s: %s" % (self.prefix, what)
            if detail:
                msg += ": " + str(detail)
            print(msg, flush=True)
        return cond

    def info(self, msg):
        print("# %s: %s" % (self.prefix, msg), flush=True)


def partition_key(i):
    return "key-%02d" % (i % NUM_KEYS)


def make_records(text_only_from=NUM_RECORDS):
    """The records to put, in put order. Record i has partition key
    key-(i mod 40) and is that key's (i div 40)-th record; its payload starts
    with "<key>#<index>#" and, for i < text_only_from, continues with binary
    bytes (NUL, 0xff, ...) of varying length so the round trip of arbitrary
    bytes is tested. Records from text_only_from on carry printable text only
    (they are sent as raw text by the CLI's put-record)."""
    recs = []
    for i in range(NUM_RECORDS):
        pk = partition_key(i)
        k = i // NUM_KEYS
        head = ("%s#%03d#" % (pk, k)).encode()
        if i < text_only_from:
            tail = bytes(((i * 7 + j * 13) % 256) for j in range(i % 61))
        else:
            tail = ("single-put-record-%d" % i).encode()
        recs.append({"i": i, "pk": pk, "k": k, "data": head + tail})
    return recs


def md5_hash_key(pk):
    return int.from_bytes(hashlib.md5(pk.encode("utf-8")).digest(), "big")


def _short(items, n=5):
    items = list(items)
    s = ", ".join(str(x) for x in items[:n])
    if len(items) > n:
        s += ", ... (%d in all)" % len(items)
    return s


def check_shards(c, shards):
    """shards: ListShards' Shards. Checks the stream has NUM_SHARDS open
    shards whose hash key ranges tile [0, 2^128-1]."""
    c.check(len(shards) == NUM_SHARDS, "list-shards returns %d shards" % NUM_SHARDS,
            "got %d: %s" % (len(shards), [s.get("ShardId") for s in shards]))
    try:
        ranges = sorted((int(s["HashKeyRange"]["StartingHashKey"]),
                         int(s["HashKeyRange"]["EndingHashKey"]), s["ShardId"]) for s in shards)
        ok = bool(ranges) and ranges[0][0] == 0 and ranges[-1][1] == MAX_HASH_KEY
        for a, b in zip(ranges, ranges[1:]):
            ok = ok and b[0] == a[1] + 1
        detail = ranges
    except (KeyError, ValueError, TypeError) as e:
        ok, detail = False, "malformed shard: %r" % e
    c.check(ok, "shard hash key ranges are contiguous and cover 0..2^128-1", detail)
    open_ = all("EndingSequenceNumber" not in s.get("SequenceNumberRange", {}) for s in shards)
    c.check(open_, "all shards are open (no EndingSequenceNumber)", shards)


def verify_roundtrip(c, records, put_results, shards, reads):
    """records: make_records() output (put order).
    put_results: per record, (ShardId, SequenceNumber) the put answered, or
    None if the put of that record failed.
    shards: ListShards' Shards.
    reads: {ShardId: [ {"SequenceNumber": str, "PartitionKey": str,
    "Data": bytes}, ... ]} in the order GetRecords returned them."""
    n = len(records)
    failed_puts = [r["i"] for r, p in zip(records, put_results) if p is None]
    c.check(not failed_puts, "all %d puts succeeded" % n, "failed records: " + _short(failed_puts))

    ranges = {}
    for s in shards:
        try:
            ranges[s["ShardId"]] = (int(s["HashKeyRange"]["StartingHashKey"]),
                                    int(s["HashKeyRange"]["EndingHashKey"]))
        except (KeyError, ValueError, TypeError):
            pass
    c.check(set(reads) == set(ranges), "every shard listed was read",
            "read %s, listed %s" % (sorted(reads), sorted(ranges)))

    total = sum(len(v) for v in reads.values())
    c.check(total == n, "read back %d records in all" % n, "got %d" % total)
    empty = sorted(sid for sid in ranges if not reads.get(sid))
    c.check(not empty, "every shard received records", "empty shards: %s" % empty)

    # Exactly once: every record put comes back once, byte for byte.
    want = {r["data"]: r for r in records}
    seen = {}
    dups, unknown = [], []
    for sid, recs in reads.items():
        for pos, rec in enumerate(recs):
            d = rec["Data"]
            if d not in want:
                unknown.append((sid, pos, d[:24]))
            elif d in seen:
                dups.append(d[:24])
            else:
                seen[d] = (sid, pos, rec)
    missing = [r["i"] for r in records if r["data"] not in seen]
    c.check(not dups and not unknown and not missing,
            "every record came back exactly once with identical data",
            "duplicates: [%s] unknown: [%s] missing: [%s]" % (_short(dups), _short(unknown), _short(missing)))

    wrong_pk = [(sid, rec["PartitionKey"]) for d, (sid, pos, rec) in seen.items()
                if rec["PartitionKey"] != want[d]["pk"]]
    c.check(not wrong_pk, "each record carries the partition key it was put with", _short(wrong_pk))

    # Sequence numbers: unique, strictly increasing within each shard.
    all_seqs = [rec["SequenceNumber"] for recs in reads.values() for rec in recs]
    c.check(len(set(all_seqs)) == len(all_seqs), "sequence numbers are unique",
            "%d records, %d distinct" % (len(all_seqs), len(set(all_seqs))))
    bad_order = []
    for sid, recs in reads.items():
        try:
            seqs = [int(r["SequenceNumber"]) for r in recs]
        except ValueError as e:
            bad_order.append((sid, "non-numeric sequence number: %s" % e))
            continue
        for a, b in zip(seqs, seqs[1:]):
            if not a < b:
                bad_order.append((sid, a, b))
    c.check(not bad_order, "sequence numbers strictly increase within each shard", _short(bad_order))

    # Per partition key, records come back in put order.
    order_bad = []
    keys_on = {}
    for sid, recs in reads.items():
        last = {}
        for rec in recs:
            r = want.get(rec["Data"])
            if r is None:
                continue
            keys_on.setdefault(r["pk"], set()).add(sid)
            if r["pk"] in last and last[r["pk"]] >= r["i"]:
                order_bad.append("%s: record %d after %d" % (r["pk"], r["i"], last[r["pk"]]))
            last[r["pk"]] = r["i"]
    c.check(not order_bad, "records of each partition key come back in put order", _short(order_bad))
    split = {k: sorted(v) for k, v in keys_on.items() if len(v) > 1}
    c.check(not split, "all records of a partition key are on one shard", split)

    # Routing: the shard's hash key range contains md5(partition key).
    misrouted = []
    for sid, recs in reads.items():
        lo, hi = ranges.get(sid, (None, None))
        for rec in recs:
            h = md5_hash_key(rec["PartitionKey"])
            if lo is None or not lo <= h <= hi:
                misrouted.append("%s on %s (md5=%d)" % (rec["PartitionKey"], sid, h))
    c.check(not misrouted, "each record is on the shard whose hash range holds md5(partition key)",
            _short(misrouted))

    # What the put answered is where the record is.
    mismatch = []
    for r, p in zip(records, put_results):
        got = seen.get(r["data"])
        if p is None or got is None:
            continue
        if (got[0], got[2]["SequenceNumber"]) != tuple(p):
            mismatch.append("record %d: put said %s/%s, read from %s/%s"
                            % (r["i"], p[0], p[1], got[0], got[2]["SequenceNumber"]))
    c.check(not mismatch, "ShardId and SequenceNumber from the put responses match the records read",
            _short(mismatch, 3))


def summary_exit(c):
    print("%s: %d passed, %d failed" % (c.prefix, c.passed, c.failed), flush=True)
    sys.exit(1 if c.failed else 0)
