// Microseconds per signature: ours (dist/, so `npm run build` first) against Huawei's SDK signer, on
// the same typical DMS reset request. Run: npm run build && node tests/bench/signing.js
// Ours includes encoding the path (the SDK encodes its path inside sign()); each side gets the body
// as it takes it (ours the JSON text it sends, the SDK the object it stringifies).
"use strict";
const { encodePath } = require("../../dist/provider/dms/signing/encoding.js");
const { canonicalRequest, RequestSigner, signRequest, signature, stringToSign } = require("../../dist/provider/dms/signing/signer.js");
const { AKSKSigner } = require("@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner");
const { BasicCredentials } = require("@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials");

const WARM_UP = 10_000;
const ROUNDS = 5;
const PER_ROUND = 20_000;

const credentials = { accessKey: "HPUAEXAMPLEACCESSKEY", secretKey: "ExampleSecretKey0123456789abcdefghijklmn" };
const host = "dms.cn-north-4.myhuaweicloud.com";
const projectId = "0123456789abcdef0123456789abcdef";
const segments = ["v2", projectId, "instances", "3b2c6f4e-1a7d-4c1e-9a55-6f1b2d3c4e5f", "groups", "orders-consumers", "reset-message-offset"];
const data = { topic: "orders", partition: -1, message_offset: 1024 };
const body = JSON.stringify(data);
const date = new Date(Date.UTC(2026, 10, 24, 2, 0, 0));
const sdkCredential = new BasicCredentials().withAk(credentials.accessKey).withSk(credentials.secretKey);

// As DmsClient signs: one RequestSigner for all its requests.
const signer = new RequestSigner(credentials);
const ours = () => signer.sign({ method: "POST", host, encodedPath: encodePath(segments), query: {}, body, projectId }, date);
// A one-off signature: the HMAC keyed for this request alone.
const oursOneOff = () => signRequest({ method: "POST", host, encodedPath: encodePath(segments), query: {}, body, projectId }, credentials, date);
const sdk = () =>
  AKSKSigner.sign(
    {
      method: "POST",
      endpoint: `https://${host}/${segments.join("/")}`,
      headers: { "X-Project-Id": projectId, "Content-Type": "application/json", "X-Sdk-Date": "20261124T020000Z" },
      queryParams: {},
      data,
    },
    sdkCredential,
  );

if (ours().authorization !== sdk().Authorization || oursOneOff().authorization !== sdk().Authorization) {
  throw new Error("the signers disagree on the benchmark request");
}

// Our stages on their own, to show where the time goes.
const encodedPath = encodePath(segments);
const headers = { host, "x-sdk-date": "20261124T020000Z", "content-type": "application/json", "x-project-id": projectId };
const canonical = canonicalRequest({ method: "POST", encodedPath, query: {}, headers, body });
const toSign = stringToSign("20261124T020000Z", canonical);
const stages = {
  "  encodePath": () => encodePath(segments),
  "  canonicalRequest": () => canonicalRequest({ method: "POST", encodedPath, query: {}, headers, body }),
  "  stringToSign": () => stringToSign("20261124T020000Z", canonical),
  "  signature": () => signature(credentials.secretKey, toSign),
};

/** Mean µs per call over all rounds, and the best round's mean (the least disturbed by other load). */
function measure(fn) {
  for (let i = 0; i < WARM_UP; i++) fn();
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < PER_ROUND; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - start) / 1000 / PER_ROUND);
  }
  return { mean: rounds.reduce((a, b) => a + b, 0) / ROUNDS, best: Math.min(...rounds) };
}

console.log(`µs per signature, mean of ${ROUNDS * PER_ROUND} after ${WARM_UP} warm-up (best round of ${PER_ROUND} in brackets)`);
for (const [name, fn] of Object.entries({ "ours (RequestSigner)": ours, "ours (signRequest)": oursOneOff, "SDK AKSKSigner.sign": sdk, ...stages })) {
  const { mean, best } = measure(fn);
  console.log(`${name.padEnd(22)} ${mean.toFixed(2).padStart(7)} µs  (${best.toFixed(2)})`);
}
