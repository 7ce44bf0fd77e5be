"""Helper for the AWS CLI half of the end-to-end test (run.sh): writes the
request files for `aws kinesis put-records` and checks the JSON the CLI
printed. Python 3 standard library only.

  cli_check.py gen DIR      write DIR/batch_1.json, DIR/batch_2.json (for
                            put-records --records file://...) and
                            DIR/singles.tsv (index, key, text for put-record)
  cli_check.py page FILE    print "<record count> <MillisBehindLatest>
                            <NextShardIterator or NONE>" of a get-records reply
  cli_check.py verify DIR   check everything run.sh saved in DIR
"""

import base64
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_lib  # noqa: E402

# Records 0..499 go in the first put-records call, 500..(SINGLES_FROM-1) in
# the second, the rest one put-record call each.
BATCH_SPLIT = 500
SINGLES_FROM = 998


def gen(d):
    recs = e2e_lib.make_records(text_only_from=SINGLES_FROM)

    def entries(rs):
        return [{"Data": base64.b64encode(r["data"]).decode(), "PartitionKey": r["pk"]} for r in rs]

    with open(os.path.join(d, "batch_1.json"), "w") as f:
        json.dump(entries(recs[:BATCH_SPLIT]), f)
    with open(os.path.join(d, "batch_2.json"), "w") as f:
        json.dump(entries(recs[BATCH_SPLIT:SINGLES_FROM]), f)
    with open(os.path.join(d, "singles.tsv"), "w") as f:
        for r in recs[SINGLES_FROM:]:
            f.write("%d\t%s\t%s\n" % (r["i"], r["pk"], r["data"].decode()))


def page(path):
    with open(path) as f:
        out = json.load(f)
    print(len(out.get("Records", [])), out.get("MillisBehindLatest", "MISSING"),
          out.get("NextShardIterator") or "NONE")


def verify(d):
    c = e2e_lib.Checker("cli")
    recs = e2e_lib.make_records(text_only_from=SINGLES_FROM)
    put_results = [None] * len(recs)

    # put-records replies, aligned with the request entries.
    for name, lo, hi in (("putrecords_1.json", 0, BATCH_SPLIT),
                         ("putrecords_2.json", BATCH_SPLIT, SINGLES_FROM)):
        with open(os.path.join(d, name)) as f:
            out = json.load(f)
        entries = out.get("Records", [])
        c.check(out.get("FailedRecordCount") == 0 and len(entries) == hi - lo,
                "put-records of records %d..%d: FailedRecordCount 0 and %d result entries" % (lo, hi - 1, hi - lo),
                "FailedRecordCount=%r, %d entries" % (out.get("FailedRecordCount"), len(entries)))
        for i, e in zip(range(lo, hi), entries):
            if "ErrorCode" not in e and e.get("ShardId") and e.get("SequenceNumber"):
                put_results[i] = (e["ShardId"], e["SequenceNumber"])
    # put-record replies.
    for i in range(SINGLES_FROM, len(recs)):
        p = os.path.join(d, "putrecord_%d.json" % i)
        if os.path.exists(p):
            with open(p) as f:
                e = json.load(f)
            if e.get("ShardId") and e.get("SequenceNumber"):
                put_results[i] = (e["ShardId"], e["SequenceNumber"])

    with open(os.path.join(d, "shards.json")) as f:
        shards = json.load(f).get("Shards", [])
    e2e_lib.check_shards(c, shards)

    reads = {}
    caught_up = []
    for sid in [s["ShardId"] for s in shards]:
        pages = sorted(glob.glob(os.path.join(d, "read_%s_*.json" % sid)))
        recs_read = []
        last = None
        for p in pages:
            with open(p) as f:
                out = json.load(f)
            last = out
            for r in out.get("Records", []):
                recs_read.append({"SequenceNumber": r["SequenceNumber"], "PartitionKey": r["PartitionKey"],
                                  "Data": base64.b64decode(r["Data"])})
        reads[sid] = recs_read
        caught_up.append((sid, len(pages), last is not None and not last.get("Records")
                          and last.get("MillisBehindLatest") == 0 and bool(last.get("NextShardIterator"))))
    c.check(all(x[2] for x in caught_up),
            "each shard was read until an empty page with MillisBehindLatest 0 and a NextShardIterator",
            caught_up)
    c.check(all(x[1] >= 2 for x in caught_up) and any(x[1] >= 3 for x in caught_up),
            "reads chained NextShardIterator (every shard >= 2 pages, some shard >= 2 non-empty pages)",
            caught_up)
    e2e_lib.verify_roundtrip(c, recs, put_results, shards, reads)
    print("cli-verify: %d passed, %d failed" % (c.passed, c.failed), flush=True)
    sys.exit(1 if c.failed else 0)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("gen", "page", "verify"):
        sys.exit(__doc__)
    {"gen": gen, "page": page, "verify": verify}[sys.argv[1]](sys.argv[2])


if __name__ == "__main__":
    main()
