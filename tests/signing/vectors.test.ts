// Fixed vectors through our own signing functions: published SHA-256 / HMAC-SHA256 values pin how
// @noble/hashes is used (encoding of keys and data, hex output), and one full SDK-HMAC-SHA256
// request pins every stage against a value Huawei's signer produced.
import { encodePath } from "../../provider/dms/signing/encoding";
import { canonicalRequest, hexSha256, signRequest, signature, stringToSign } from "../../provider/dms/signing/signer";
import { sdkSign } from "./sdk-signer";

describe("SHA-256 (FIPS 180-2 / NIST examples)", () => {
  test.each([
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ])("hexSha256(%j) from a string and from its bytes", (message, digest) => {
    expect(hexSha256(message)).toBe(digest);
    expect(hexSha256(new TextEncoder().encode(message))).toBe(digest);
  });
});

describe("HMAC-SHA256 (RFC 4231)", () => {
  test("test case 1: 20-byte key 0x0b, \"Hi There\"", () => {
    expect(signature("\x0b".repeat(20), "Hi There")).toBe("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  });
  test("test case 2: key \"Jefe\", shorter than the hash", () => {
    expect(signature("Jefe", "what do ya want for nothing?")).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });
  test("test case 5: 20-byte key 0x0c, output truncated to 128 bits", () => {
    expect(signature("\x0c".repeat(20), "Test With Truncation").slice(0, 32)).toBe("a3b6167473100ee06e0c796c2955552b");
  });
});

describe("a full DMS reset request", () => {
  // Expected values obtained from @huaweicloud/huaweicloud-sdk-core 3.1.211, AKSKSigner.sign, on this
  // exact request (called as sdk-signer.ts calls it), then written down here as a regression vector.
  const accessKey = "HPUAEXAMPLEACCESSKEY";
  const secretKey = "ExampleSecretKey0123456789abcdefghijklmn";
  const projectId = "0123456789abcdef0123456789abcdef";
  const instanceId = "3b2c6f4e-1a7d-4c1e-9a55-6f1b2d3c4e5f";
  const segments = ["v2", projectId, "instances", instanceId, "groups", "订单-consumers_1", "reset-message-offset"];
  const host = "dms.cn-north-4.myhuaweicloud.com";
  const date = new Date(Date.UTC(2026, 10, 24, 2, 0, 0));
  const data = { topic: "orders", partition: -1, message_offset: 42 };
  const body = JSON.stringify(data);
  const expectedCanonical = [
    "POST",
    `/v2/${projectId}/instances/${instanceId}/groups/%E8%AE%A2%E5%8D%95-consumers_1/reset-message-offset/`,
    "",
    `content-type:application/json\nhost:${host}\nx-project-id:${projectId}\nx-sdk-date:20261124T020000Z\n`,
    "content-type;host;x-project-id;x-sdk-date",
    "1a2fee2ada6cd02e6c8e4a258b562518860a770ee40a92c4645a5383a987d94f",
  ].join("\n");
  const expectedSignature = "321574886d030ab189705cfe6a2b6b8b4c772ea9653a9d1f3197ec7d12c2e0ed";
  const expectedAuthorization = `SDK-HMAC-SHA256 Access=${accessKey}, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=${expectedSignature}`;

  test("every stage gives the recorded value", () => {
    const headers = { host, "x-sdk-date": "20261124T020000Z", "content-type": "application/json", "x-project-id": projectId };
    const canonical = canonicalRequest({ method: "POST", encodedPath: encodePath(segments), query: {}, headers, body });
    expect(canonical).toBe(expectedCanonical);
    const toSign = stringToSign("20261124T020000Z", canonical);
    expect(toSign).toBe("SDK-HMAC-SHA256\n20261124T020000Z\ned7a51349cf63077b71b5855a901ba233d209cabac23e84167a0455b76a46058");
    expect(signature(secretKey, toSign)).toBe(expectedSignature);
    expect(signRequest({ method: "POST", host, encodedPath: encodePath(segments), query: {}, body, projectId }, { accessKey, secretKey }, date)).toEqual({
      ...headers,
      authorization: expectedAuthorization,
    });
  });

  test("the SDK still gives the recorded Authorization", () => {
    const sdk = sdkSign(
      { method: "POST", endpoint: `https://${host}`, rawPath: `/${segments.join("/")}`, query: {}, data, projectId, sdkDate: "20261124T020000Z" },
      { accessKey, secretKey },
    );
    expect(sdk["Authorization"]).toBe(expectedAuthorization);
  });
});
