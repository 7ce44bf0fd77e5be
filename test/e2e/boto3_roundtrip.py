"""boto3 half of the end-to-end test (run by run.sh with Debian's
/usr/bin/python3 and python3-boto3).

  boto3_roundtrip.py ENDPOINT

Creates a 4-shard stream, waits for ACTIVE, puts 1,000 records (put_records
in two batches of 500 minus a few, plus single put_record calls), reads every
shard back from TRIM_HORIZON chaining NextShardIterator, verifies
exactly-once delivery, per-key order and md5 routing, checks error codes,
deletes the stream and confirms it is gone. Prints one "ok - ..." or
"FAIL - ..." line per check and ends with "boto3: N passed, M failed".
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_lib  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

SINGLES_FROM = 990  # records from here on go through put_record
PAGE_LIMIT = 90


class Fatal(Exception):
    pass


def error_code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response.get("Error", {}).get("Code"), e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return None, None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    endpoint = sys.argv[1]
    c = e2e_lib.Checker("boto3")
    c.info("boto3 %s, botocore %s" % (boto3.__version__, __import__("botocore").__version__))
    client = boto3.session.Session(
        aws_access_key_id="AKIAE2ETESTKEY000000",
        aws_secret_access_key="e2e-dummy-secret",
        region_name="us-east-1",
    ).client("kinesis", endpoint_url=endpoint,
             config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                           connect_timeout=5, read_timeout=30))
    stream = "e2e-boto3-%d" % os.getpid()
    try:
        run(c, client, stream)
    except Fatal as e:
        c.check(False, str(e))
    except Exception as e:  # an unexpected exception is a failed check, not a crash
        c.check(False, "unexpected %s: %s" % (type(e).__name__, e))
    e2e_lib.summary_exit(c)


def run(c, client, stream):
    try:
        client.create_stream(StreamName=stream, ShardCount=4)
    except ClientError as e:
        raise Fatal("create_stream %s with 4 shards: %s" % (stream, e))
    c.check(True, "create_stream %s with 4 shards" % stream)

    status = None
    for _ in range(100):
        status = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"]
        if status == "ACTIVE":
            break
        time.sleep(0.1)
    if status != "ACTIVE":
        raise Fatal("stream becomes ACTIVE (last status %s)" % status)
    c.check(True, "stream becomes ACTIVE")

    code, http = error_code(client.describe_stream_summary, StreamName="e2e-no-such-stream-%d" % os.getpid())
    c.check(code == "ResourceNotFoundException" and http == 400,
            "describe_stream_summary of a missing stream -> ResourceNotFoundException (400)",
            "got %s (%s)" % (code, http))
    code, http = error_code(client.create_stream, StreamName=stream, ShardCount=1)
    c.check(code == "ResourceInUseException" and http == 400,
            "create_stream of an existing stream -> ResourceInUseException (400)", "got %s (%s)" % (code, http))
    code, http = error_code(client.get_shard_iterator, StreamName=stream, ShardId="shardId-000000000099",
                            ShardIteratorType="TRIM_HORIZON")
    c.check(code == "ResourceNotFoundException",
            "get_shard_iterator on a shard that does not exist -> ResourceNotFoundException",
            "got %s (%s)" % (code, http))
    code, http = error_code(client.get_records, ShardIterator="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    c.check(code == "InvalidArgumentException",
            "get_records with a made-up iterator -> InvalidArgumentException", "got %s (%s)" % (code, http))

    # ---- put 1,000 records ------------------------------------------------
    recs = e2e_lib.make_records()
    put_results = [None] * len(recs)
    batches = [(0, 500), (500, SINGLES_FROM)]
    for lo, hi in batches:
        out = client.put_records(StreamName=stream,
                                 Records=[{"Data": r["data"], "PartitionKey": r["pk"]} for r in recs[lo:hi]])
        entries = out.get("Records", [])
        c.check(out.get("FailedRecordCount") == 0 and len(entries) == hi - lo,
                "put_records of records %d..%d: FailedRecordCount 0 and %d result entries" % (lo, hi - 1, hi - lo),
                "FailedRecordCount=%r, %d entries, first error %r" % (
                    out.get("FailedRecordCount"), len(entries),
                    next((e for e in entries if "ErrorCode" in e), None)))
        for i, e in zip(range(lo, hi), entries):
            if "ErrorCode" not in e:
                put_results[i] = (e["ShardId"], e["SequenceNumber"])
    single_ok = True
    for r in recs[SINGLES_FROM:]:
        # SequenceNumberForOrdering: the sequence number of this key's
        # previous record, as a producer that wants strict ordering sends.
        prev = put_results[r["i"] - e2e_lib.NUM_KEYS]
        kw = {"SequenceNumberForOrdering": prev[1]} if prev else {}
        try:
            out = client.put_record(StreamName=stream, Data=r["data"], PartitionKey=r["pk"], **kw)
            put_results[r["i"]] = (out["ShardId"], out["SequenceNumber"])
        except ClientError as e:
            single_ok = False
            c.info("put_record of record %d: %s" % (r["i"], e))
    c.check(single_ok, "put_record x%d succeeds" % (len(recs) - SINGLES_FROM))

    shards = []
    kw = {"StreamName": stream}
    while True:
        out = client.list_shards(**kw)
        shards += out["Shards"]
        if not out.get("NextToken"):
            break
        kw = {"NextToken": out["NextToken"]}
    e2e_lib.check_shards(c, shards)

    # ---- read every shard back -------------------------------------------
    reads = {}
    caught_up = []
    for s in shards:
        sid = s["ShardId"]
        it = client.get_shard_iterator(StreamName=stream, ShardId=sid,
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        got, pages, done = [], 0, False
        while it and pages < 50:
            out = client.get_records(ShardIterator=it, Limit=PAGE_LIMIT)
            pages += 1
            for r in out["Records"]:
                got.append({"SequenceNumber": r["SequenceNumber"], "PartitionKey": r["PartitionKey"],
                            "Data": r["Data"], "ApproximateArrivalTimestamp": r.get("ApproximateArrivalTimestamp")})
            if not out["Records"] and out.get("MillisBehindLatest") == 0:
                done = bool(out.get("NextShardIterator"))
                break
            it = out.get("NextShardIterator")
        reads[sid] = got
        caught_up.append((sid, pages, done))
        c.info("read %s: %d records in %d get_records pages" % (sid, len(got), pages))
    c.check(all(x[2] for x in caught_up),
            "each shard was read until an empty page with MillisBehindLatest 0 and a NextShardIterator", caught_up)
    c.check(all(x[1] >= 3 for x in caught_up), "each shard took several chained get_records pages", caught_up)
    no_ts = [sid for sid, rs in reads.items() for r in rs if r["ApproximateArrivalTimestamp"] is None]
    c.check(not no_ts, "every record has an ApproximateArrivalTimestamp", "missing on %d" % len(no_ts))
    e2e_lib.verify_roundtrip(c, recs, put_results, shards, reads)

    # ---- positioned iterators ----------------------------------------------
    # AT_/AFTER_SEQUENCE_NUMBER of a record in the middle of the busiest shard.
    sid = max(reads, key=lambda k: len(reads[k]))
    mid = reads[sid][len(reads[sid]) // 2]
    nxt = reads[sid][len(reads[sid]) // 2 + 1]
    it = client.get_shard_iterator(StreamName=stream, ShardId=sid, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                   StartingSequenceNumber=mid["SequenceNumber"])["ShardIterator"]
    out = client.get_records(ShardIterator=it, Limit=1)["Records"]
    c.check(len(out) == 1 and out[0]["SequenceNumber"] == mid["SequenceNumber"] and out[0]["Data"] == mid["Data"],
            "AT_SEQUENCE_NUMBER iterator starts at that record", out[:1])
    it = client.get_shard_iterator(StreamName=stream, ShardId=sid, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                   StartingSequenceNumber=mid["SequenceNumber"])["ShardIterator"]
    out = client.get_records(ShardIterator=it, Limit=1)["Records"]
    c.check(len(out) == 1 and out[0]["SequenceNumber"] == nxt["SequenceNumber"],
            "AFTER_SEQUENCE_NUMBER iterator starts at the next record", out[:1])
    it = client.get_shard_iterator(StreamName=stream, ShardId=sid, ShardIteratorType="LATEST")["ShardIterator"]
    out = client.get_records(ShardIterator=it)
    c.check(out["Records"] == [] and out.get("MillisBehindLatest") == 0,
            "LATEST iterator on a quiet shard returns nothing and MillisBehindLatest 0",
            "%d records, MillisBehindLatest %r" % (len(out["Records"]), out.get("MillisBehindLatest")))

    # ---- delete ------------------------------------------------------------
    client.delete_stream(StreamName=stream)
    c.check(True, "delete_stream %s" % stream)
    gone = False
    for _ in range(50):
        names = []
        kw = {}
        while True:
            out = client.list_streams(**kw)
            names += out["StreamNames"]
            if not out.get("HasMoreStreams") or not out.get("NextToken"):
                break
            kw = {"NextToken": out["NextToken"]}
        if stream not in names:
            gone = True
            break
        time.sleep(0.1)
    c.check(gone, "list_streams no longer shows %s" % stream)
    code, http = error_code(client.describe_stream_summary, StreamName=stream)
    c.check(code == "ResourceNotFoundException",
            "describe_stream_summary of the deleted stream -> ResourceNotFoundException", "got %s (%s)" % (code, http))


if __name__ == "__main__":
    main()
