// Tributary end-to-end test with the AWS SDK for JavaScript v3
// (@aws-sdk/client-kinesis), which talks to Kinesis over HTTP/2: its Node
// runtime config defaults to NodeHttp2Handler from @smithy/node-http-handler,
// and against an http:// endpoint that handler speaks cleartext HTTP/2 with
// prior knowledge (no HTTP/1.1 Upgrade, no fallback).
//
// Run by run.sh, which starts `tributary serve` and passes its address in
// TRIBUTARY_ENDPOINT (http://127.0.0.1:PORT). By hand:
//   TRIBUTARY_ENDPOINT=http://127.0.0.1:4567 node --test kinesis_h2.test.mjs
//
// HTTP/2 use is proven three ways, none of which trusts the SDK's word:
//   1. raw node:http2: a ListStreams request over http2.connect() gets a
//      SETTINGS frame, a :status pseudo-header and a JSON reply;
//   2. on the wire: an SDK client pointed at a byte-sniffing TCP relay sends
//      the HTTP/2 connection preface, and the server's first bytes are an
//      HTTP/2 SETTINGS frame (an HTTP/1.1 server would answer "HTTP/1.1 400");
//   3. every SDK response of the round trip is checked by a middleware to
//      have arrived on an HTTP/2 stream (ClientHttp2Stream of an h2c session).
// A control test runs the SDK with its HTTP/1.1 handler and checks that the
// checks of 2 and 3 do fail for HTTP/1.1, so they cannot pass vacuously.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { createHash, createHmac } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

import {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  PutRecordsCommand,
  ListShardsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  DeleteStreamCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-kinesis";
import { NodeHttp2Handler, NodeHttpHandler } from "@smithy/node-http-handler";

const ENDPOINT = process.env.TRIBUTARY_ENDPOINT;
if (!ENDPOINT || !/^http:\/\/127\.0\.0\.1:\d+$/.test(ENDPOINT)) {
  throw new Error(
    `TRIBUTARY_ENDPOINT must be http://127.0.0.1:PORT (got ${JSON.stringify(ENDPOINT)}); run test/js/run.sh`,
  );
}
const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "AKIAJSTESTKEY0000000", secretAccessKey: "js-dummy-secret" };
const STREAM = `js-h2-${process.pid}`;
const SHARDS = 4;
const NKEYS = 20;
const PER_KEY = 10; // NKEYS * PER_KEY = 200 records
const TARGET = "Kinesis_20131202";

// ---- helpers ----------------------------------------------------------------

// h2Probe records, for every response the SDK receives, what carried it.
// It sits innermost in the deserialize step, so it sees the handler's raw
// HttpResponse (body not yet read) for successes and service errors alike.
function addH2Probe(client, seen) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const body = out.response?.body;
      const session = body?.session;
      seen.push({
        op: context.commandName,
        status: out.response?.statusCode,
        bodyClass: body?.constructor?.name,
        session,
        alpn: session?.alpnProtocol,
        encrypted: session?.encrypted,
        method: body?.sentHeaders?.[":method"],
      });
      return out;
    },
    { step: "deserialize", priority: "low", name: "h2ProbeMiddleware" },
  );
}

function assertAllH2(seen, what) {
  assert.ok(seen.length > 0, `${what}: no responses recorded`);
  for (const s of seen) {
    const where = `${what}: ${s.op} (HTTP ${s.status})`;
    assert.equal(s.bodyClass, "ClientHttp2Stream", `${where}: body is a ${s.bodyClass}, not an HTTP/2 stream`);
    assert.ok(s.session instanceof Object, `${where}: no HTTP/2 session`);
    assert.equal(s.alpn, "h2c", `${where}: session protocol ${s.alpn}, want h2c (cleartext HTTP/2)`);
    assert.equal(s.encrypted, false, `${where}: session is encrypted`);
    assert.equal(s.method, "POST", `${where}: request :method ${s.method}`);
  }
}

// startRelay starts a TCP relay to the server that keeps the first 64 bytes
// each way of every connection.
async function startRelay() {
  const target = new URL(ENDPOINT);
  const conns = [];
  const relay = net.createServer((down) => {
    const c = { up: Buffer.alloc(0), down: Buffer.alloc(0) };
    conns.push(c);
    const up = net.connect(Number(target.port), target.hostname);
    down.on("data", (d) => {
      if (c.up.length < 64) c.up = Buffer.concat([c.up, d]).subarray(0, 64);
    });
    up.on("data", (d) => {
      if (c.down.length < 64) c.down = Buffer.concat([c.down, d]).subarray(0, 64);
    });
    down.pipe(up).pipe(down);
    down.on("error", () => up.destroy());
    up.on("error", () => down.destroy());
    down.on("close", () => up.destroy());
    up.on("close", () => down.destroy());
  });
  await new Promise((resolve) => relay.listen(0, "127.0.0.1", resolve));
  return { conns, port: relay.address().port, close: () => relay.close() };
}

// assertH2Wire checks that every relayed connection was HTTP/2: the client
// opened with the connection preface and the server's first frame was SETTINGS.
function assertH2Wire(conns) {
  assert.ok(conns.length >= 1, "the SDK made no connection through the relay");
  const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  for (const c of conns) {
    assert.equal(
      c.up.subarray(0, PREFACE.length).toString("latin1"),
      PREFACE,
      `client did not open with the HTTP/2 preface: ${JSON.stringify(c.up.toString("latin1"))}`,
    );
    // First server frame: 9-byte header, type 0x4 (SETTINGS), no ACK flag, stream 0.
    assert.ok(c.down.length >= 9, `server sent only ${c.down.length} bytes`);
    assert.ok(
      !c.down.subarray(0, 5).toString("latin1").startsWith("HTTP/"),
      `server answered HTTP/1.x: ${JSON.stringify(c.down.toString("latin1"))}`,
    );
    assert.equal(c.down[3], 0x04, `first server frame type ${c.down[3]}, want SETTINGS (4)`);
    assert.equal(c.down[4] & 0x01, 0, "first server SETTINGS frame is an ACK");
    assert.equal(c.down.readUInt32BE(5) & 0x7fffffff, 0, "first server SETTINGS frame is not on stream 0");
  }
}

// sigv4Headers signs a Kinesis JSON request with the dummy credentials
// (AWS Signature Version 4), as the SDK would.
function sigv4Headers(host, target, body) {
  const sha256 = (x) => createHash("sha256").update(x).digest("hex");
  const hmac = (key, x) => createHmac("sha256", key).update(x).digest();
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, ""); // 20240101T000000Z
  const day = amzDate.slice(0, 8);
  const headers = {
    "content-type": "application/x-amz-json-1.1",
    host,
    "x-amz-date": amzDate,
    "x-amz-target": target,
  };
  const signed = Object.keys(headers).sort();
  const canonical = [
    "POST",
    "/",
    "",
    ...signed.map((h) => `${h}:${headers[h]}`),
    "",
    signed.join(";"),
    sha256(body),
  ].join("\n");
  const scope = `${day}/${REGION}/kinesis/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key = hmac(`AWS4${CREDENTIALS.secretAccessKey}`, day);
  for (const part of [REGION, "kinesis", "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  delete headers.host; // HTTP/2 carries it as :authority
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${CREDENTIALS.accessKeyId}/${scope}, SignedHeaders=${signed.join(";")}, Signature=${signature}`,
  };
}

function newClient(extra = {}) {
  return new KinesisClient({
    endpoint: ENDPOINT,
    region: REGION,
    credentials: CREDENTIALS,
    maxAttempts: 1, // no retries: every error the server returns is seen
    ...extra,
  });
}

// Deterministic pseudo-random bytes (all 256 values occur, invalid UTF-8 too).
function bytes(seed, n) {
  const out = Buffer.alloc(n);
  let block = createHash("sha256").update(seed).digest();
  for (let off = 0; off < n; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, n - off));
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

function md5Int(key) {
  return BigInt("0x" + createHash("md5").update(key, "utf8").digest("hex"));
}

// The 200 records: NKEYS partition keys, PER_KEY records each, interleaved.
// Data is binary: record 0 holds every byte value, a few records are 256 KiB
// (so requests and replies span many HTTP/2 DATA frames and need flow-control
// window updates), one is a single NUL byte, the rest are 1-700 bytes.
function makeRecords() {
  const recs = [];
  for (let j = 0; j < PER_KEY; j++) {
    for (let k = 0; k < NKEYS; k++) {
      const i = recs.length;
      const key = `pk-${k}-\u00e9\u6f22`; // non-ASCII keys too
      let data;
      if (i === 0) data = Buffer.from(Array.from({ length: 256 }, (_, b) => b));
      else if (i === 1) data = Buffer.from([0]);
      else if (i % 67 === 5) data = bytes(`rec-${i}`, 256 * 1024);
      else data = bytes(`rec-${i}`, 1 + ((i * 37) % 700));
      recs.push({ i, key, seq: j, data });
    }
  }
  return recs;
}

// ---- shared state -----------------------------------------------------------

const seenDefault = [];
const seenExplicit = [];
let defaultClient; // the client-kinesis default: NodeHttp2Handler, one session per request
let h2Client; // NodeHttp2Handler set explicitly, concurrent streams on a shared session
const records = makeRecords();
const putResults = []; // per record: { ShardId, SequenceNumber }
let shards = [];
const readBack = new Map(); // ShardId -> records in read order
let streamCreated = false;

before(() => {
  defaultClient = newClient();
  addH2Probe(defaultClient, seenDefault);
  h2Client = newClient({
    requestHandler: new NodeHttp2Handler({ requestTimeout: 30_000, disableConcurrentStreams: false }),
  });
  addH2Probe(h2Client, seenExplicit);
});

after(async () => {
  // Best effort: do not leave the stream behind if a test failed midway.
  if (streamCreated) {
    try {
      await defaultClient.send(new DeleteStreamCommand({ StreamName: STREAM }));
    } catch {}
  }
  defaultClient?.destroy();
  h2Client?.destroy();
});

// ---- tests ------------------------------------------------------------------

test("client-kinesis defaults to the HTTP/2 handler (NodeHttp2Handler)", () => {
  const h = defaultClient.config.requestHandler;
  assert.ok(h instanceof NodeHttp2Handler, `default requestHandler is ${h?.constructor?.name}`);
  assert.equal(h.metadata?.handlerProtocol, "h2");
  assert.ok(h2Client.config.requestHandler instanceof NodeHttp2Handler);
});

test("raw node:http2 ListStreams: the server answers HTTP/2 with prior knowledge", async () => {
  const session = http2.connect(ENDPOINT);
  try {
    const settings = new Promise((resolve, reject) => {
      session.once("remoteSettings", resolve);
      session.once("error", reject);
    });
    const body0 = "{}";
    const req = session.request({
      ":method": "POST",
      ":path": "/",
      ...sigv4Headers(new URL(ENDPOINT).host, `${TARGET}.ListStreams`, body0),
    });
    req.end(body0);
    const [headers, body] = await new Promise((resolve, reject) => {
      let h;
      const chunks = [];
      req.on("response", (x) => (h = x));
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => resolve([h, Buffer.concat(chunks).toString("utf8")]));
      req.on("error", reject);
    });
    const remote = await settings;
    assert.equal(session.alpnProtocol, "h2c");
    assert.equal(typeof remote.initialWindowSize, "number", "server sent no HTTP/2 SETTINGS");
    assert.equal(headers[":status"], 200, `status ${headers[":status"]}, body ${body}`);
    assert.match(String(headers["content-type"]), /^application\/x-amz-json-1\.1/);
    // Connection-specific headers are forbidden in HTTP/2 (RFC 9113 8.2.2).
    for (const h of ["connection", "keep-alive", "transfer-encoding", "upgrade"]) {
      assert.equal(headers[h], undefined, `HTTP/2 response carries a ${h} header`);
    }
    const json = JSON.parse(body);
    assert.ok(Array.isArray(json.StreamNames), `ListStreams reply has no StreamNames: ${body}`);
  } finally {
    session.close();
  }
});

test("on the wire: the SDK sends the HTTP/2 preface and the server replies with HTTP/2 frames", async () => {
  const { conns, port, close } = await startRelay();
  const client = newClient({ endpoint: `http://127.0.0.1:${port}` });
  try {
    const out = await client.send(new ListStreamsCommand({}));
    assert.ok(Array.isArray(out.StreamNames));
    assertH2Wire(conns);
  } finally {
    client.destroy();
    close();
  }
});

test(`CreateStream ${SHARDS} shards, then ACTIVE by DescribeStreamSummary`, async () => {
  await defaultClient.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: SHARDS }));
  streamCreated = true;
  let summary;
  for (let n = 0; n < 100; n++) {
    const out = await defaultClient.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
    summary = out.StreamDescriptionSummary;
    if (summary.StreamStatus === "ACTIVE") break;
    await sleep(100);
  }
  assert.equal(summary.StreamStatus, "ACTIVE");
  assert.equal(summary.OpenShardCount, SHARDS);
  assert.equal(summary.StreamName, STREAM);
  const listed = await h2Client.send(new ListStreamsCommand({}));
  assert.ok(listed.StreamNames.includes(STREAM), `ListStreams: ${listed.StreamNames}`);
});

test("PutRecords: 200 binary records in two batches (default and explicit handler)", async () => {
  const batches = [
    [defaultClient, records.slice(0, 100)],
    [h2Client, records.slice(100)],
  ];
  for (const [client, batch] of batches) {
    const out = await client.send(
      new PutRecordsCommand({
        StreamName: STREAM,
        Records: batch.map((r) => ({ PartitionKey: r.key, Data: new Uint8Array(r.data) })),
      }),
    );
    assert.equal(out.FailedRecordCount ?? 0, 0, `failed records: ${JSON.stringify(out.Records.filter((x) => x.ErrorCode))}`);
    assert.equal(out.Records.length, batch.length);
    for (const [n, res] of out.Records.entries()) {
      assert.match(res.ShardId ?? "", /^shardId-\d{12}$/, `record ${batch[n].i}: ShardId ${res.ShardId}`);
      assert.match(res.SequenceNumber ?? "", /^\d+$/, `record ${batch[n].i}: SequenceNumber ${res.SequenceNumber}`);
      putResults[batch[n].i] = { ShardId: res.ShardId, SequenceNumber: res.SequenceNumber };
    }
  }
  assert.equal(putResults.filter(Boolean).length, records.length);
});

test("ListShards: 4 shards covering the hash key space, records routed by MD5", async () => {
  const out = await h2Client.send(new ListShardsCommand({ StreamName: STREAM }));
  shards = out.Shards;
  assert.equal(shards.length, SHARDS);
  const ranges = shards
    .map((s) => ({ id: s.ShardId, lo: BigInt(s.HashKeyRange.StartingHashKey), hi: BigInt(s.HashKeyRange.EndingHashKey) }))
    .sort((a, b) => (a.lo < b.lo ? -1 : 1));
  assert.equal(ranges[0].lo, 0n);
  assert.equal(ranges.at(-1).hi, (1n << 128n) - 1n);
  for (let n = 1; n < ranges.length; n++) assert.equal(ranges[n].lo, ranges[n - 1].hi + 1n);
  for (const r of records) {
    const h = md5Int(r.key);
    const want = ranges.find((x) => x.lo <= h && h <= x.hi).id;
    assert.equal(putResults[r.i].ShardId, want, `record ${r.i} (key ${r.key}) put to ${putResults[r.i].ShardId}, MD5 says ${want}`);
  }
});

test("GetShardIterator TRIM_HORIZON + GetRecords chaining on every shard (concurrent, multiplexed)", async () => {
  assert.equal(shards.length, SHARDS, "ListShards did not run");
  const readShard = async (shardId) => {
    const it = await h2Client.send(
      new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }),
    );
    let iterator = it.ShardIterator;
    const got = [];
    for (let page = 0; ; page++) {
      assert.ok(page < 60, `shard ${shardId}: not caught up after ${page} pages`);
      assert.ok(iterator, `shard ${shardId}: no NextShardIterator on an open shard`);
      const out = await h2Client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 7 }));
      got.push(...out.Records);
      if (out.Records.length === 0 && out.MillisBehindLatest === 0) break;
      iterator = out.NextShardIterator;
    }
    return got;
  };
  const all = await Promise.all(shards.map((s) => readShard(s.ShardId)));
  shards.forEach((s, n) => readBack.set(s.ShardId, all[n]));
  // All four readers shared HTTP/2 sessions: fewer sessions than requests.
  const reads = seenExplicit.filter((s) => s.op === "GetRecordsCommand" || s.op === "GetShardIteratorCommand");
  const sessions = new Set(reads.map((s) => s.session));
  assert.ok(sessions.size < reads.length, `${reads.length} requests on ${sessions.size} sessions: no multiplexing`);
});

test("all 200 records come back exactly once, byte-exact, in per-key order", () => {
  assert.equal(readBack.size, SHARDS, "GetRecords did not run");
  const bySeq = new Map(); // "shard/seq" -> record index
  for (const r of records) bySeq.set(`${putResults[r.i].ShardId}/${putResults[r.i].SequenceNumber}`, r.i);
  const seenIdx = new Set();
  const orderByKey = new Map();
  let total = 0;
  for (const [shardId, recs] of readBack) {
    let prev = -1n;
    for (const rec of recs) {
      total++;
      const seq = BigInt(rec.SequenceNumber);
      assert.ok(seq > prev, `shard ${shardId}: sequence numbers not increasing at ${rec.SequenceNumber}`);
      prev = seq;
      const i = bySeq.get(`${shardId}/${rec.SequenceNumber}`);
      assert.notEqual(i, undefined, `shard ${shardId}: unexpected record ${rec.SequenceNumber} (key ${rec.PartitionKey})`);
      assert.ok(!seenIdx.has(i), `record ${i} read twice`);
      seenIdx.add(i);
      const want = records[i];
      assert.equal(rec.PartitionKey, want.key, `record ${i}: partition key`);
      assert.ok(rec.Data instanceof Uint8Array, `record ${i}: Data is ${rec.Data?.constructor?.name}`);
      const data = Buffer.from(rec.Data);
      assert.ok(
        data.equals(want.data),
        `record ${i}: data differs (got ${data.length} bytes ${data.subarray(0, 16).toString("hex")}…, ` +
          `want ${want.data.length} bytes ${want.data.subarray(0, 16).toString("hex")}…)`,
      );
      assert.ok(rec.ApproximateArrivalTimestamp instanceof Date, `record ${i}: ApproximateArrivalTimestamp`);
      if (!orderByKey.has(want.key)) orderByKey.set(want.key, []);
      orderByKey.get(want.key).push(want.seq);
    }
  }
  assert.equal(total, records.length, `read ${total} records, put ${records.length}`);
  assert.equal(seenIdx.size, records.length);
  assert.equal(orderByKey.size, NKEYS);
  for (const [key, order] of orderByKey) {
    assert.deepEqual(order, [...Array(PER_KEY).keys()], `key ${key}: read in order ${order}`);
  }
});

test("a missing stream gives ResourceNotFoundException", async () => {
  for (const client of [defaultClient, h2Client]) {
    await assert.rejects(
      client.send(new DescribeStreamSummaryCommand({ StreamName: `js-h2-no-such-stream-${process.pid}` })),
      (err) => {
        assert.equal(err.name, "ResourceNotFoundException", `${err.name}: ${err.message}`);
        assert.ok(err instanceof ResourceNotFoundException);
        assert.equal(err.$metadata?.httpStatusCode, 400);
        assert.equal(err.$fault, "client");
        assert.ok(err.message.length > 0, "empty error message");
        return true;
      },
    );
  }
});

test("DeleteStream, then the stream is gone", async () => {
  assert.ok(streamCreated, "CreateStream did not run");
  await defaultClient.send(new DeleteStreamCommand({ StreamName: STREAM }));
  let gone = false;
  for (let n = 0; n < 50 && !gone; n++) {
    try {
      await defaultClient.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
      await sleep(100);
    } catch (err) {
      assert.equal(err.name, "ResourceNotFoundException", `${err.name}: ${err.message}`);
      gone = true;
    }
  }
  assert.ok(gone, "DescribeStreamSummary still finds the stream after DeleteStream");
  streamCreated = false;
  const listed = await h2Client.send(new ListStreamsCommand({}));
  assert.ok(!listed.StreamNames.includes(STREAM), `ListStreams still shows ${STREAM}`);
});

test("every SDK response of the round trip arrived over HTTP/2 (h2c)", () => {
  assertAllH2(seenDefault, "default client");
  assertAllH2(seenExplicit, "explicit NodeHttp2Handler client");
  const ops = new Set([...seenDefault, ...seenExplicit].map((s) => s.op));
  for (const op of [
    "CreateStreamCommand",
    "DescribeStreamSummaryCommand",
    "PutRecordsCommand",
    "ListShardsCommand",
    "GetShardIteratorCommand",
    "GetRecordsCommand",
    "DeleteStreamCommand",
    "ListStreamsCommand",
  ]) {
    assert.ok(ops.has(op), `no ${op} response recorded`);
  }
  // The error replies (HTTP 400) were HTTP/2 too.
  assert.ok([...seenDefault, ...seenExplicit].some((s) => s.status === 400), "no error response recorded");
});

test("control: the probes tell HTTP/1.1 apart (SDK with the HTTP/1.1 NodeHttpHandler)", async () => {
  const seen = [];
  const client = newClient({ requestHandler: new NodeHttpHandler({ requestTimeout: 30_000 }) });
  addH2Probe(client, seen);
  try {
    await client.send(new ListStreamsCommand({}));
    assert.equal(seen.length, 1);
    assert.equal(seen[0].bodyClass, "IncomingMessage");
    assert.throws(() => assertAllH2(seen, "HTTP/1.1 client"), /not an HTTP\/2 stream/);
  } finally {
    client.destroy();
  }
  // The wire check sees HTTP/1.1 for what it is.
  const { conns, port, close } = await startRelay();
  const h1 = newClient({ endpoint: `http://127.0.0.1:${port}`, requestHandler: new NodeHttpHandler() });
  try {
    await h1.send(new ListStreamsCommand({}));
    assert.ok(conns.length >= 1);
    assert.match(conns[0].up.toString("latin1"), /^POST \/ HTTP\/1\.1\r\n/);
    assert.match(conns[0].down.toString("latin1"), /^HTTP\/1\.1 200 /);
    assert.throws(() => assertH2Wire(conns), /HTTP\/2 preface/);
  } finally {
    h1.destroy();
    close();
  }
});
