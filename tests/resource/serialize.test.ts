// The provider that Pulumi serializes into state (`__provider`) must be small and self-contained, and must
// carry no credential: it only loads the implementation by package name at run time.
import * as pulumi from "@pulumi/pulumi";
import { OffsetReset } from "../../sdk";

const AK = "AKSERIALIZE0000000001";
const SK = "sk-serialize-secret-0000000000000000000001";
const TOKEN = "token-serialize-secret-0000000001";

const registered: pulumi.runtime.MockResourceArgs[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push(args);
        return { id: `${args.name}-id`, state: {} };
      },
      call: (args) => args.inputs,
    },
    "serialize-test",
    "dev",
    false,
  );
});

function urnOf(r: pulumi.Resource): Promise<string> {
  return new Promise((resolve) => r.urn.apply(resolve));
}

test("__provider is a thin loader: no credential, no schema, under 20 KB", async () => {
  const reset = new OffsetReset("billing-rewind", {
    endpoint: "http://127.0.0.1:9",
    projectId: "p",
    instanceId: "i",
    group: "billing",
    timestamp: "2026-11-24T02:00:00Z",
    accessKey: AK,
    secretKey: SK,
    securityToken: TOKEN,
  });
  await urnOf(reset);
  const args = registered.find((a) => a.name === "billing-rewind");
  expect(args?.type).toBe("pulumi-nodejs:dynamic/dms:OffsetReset");
  const text = args?.inputs.__provider as string;
  expect(typeof text).toBe("string");
  const bytes = Buffer.byteLength(text);
  console.log(`serialized __provider: ${bytes} bytes`);
  expect(bytes).toBeLessThanOrEqual(20 * 1024);
  for (const secret of [AK, SK, TOKEN]) expect(text).not.toContain(secret);
  expect(text).toContain('require("pulumi-dms-offset-reset/dist/provider/resource/provider.js")');
  // Nothing of the implementation travels by value.
  for (const word of ["zod", "undici", "safeParse", "DmsClient", "noble"]) expect(text).not.toContain(word);
  // The credentials reach the provider as inputs, each a secret (encrypted in state).
  const secret = (value: string) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });
  expect(args?.inputs.accessKey).toEqual(secret(AK));
  expect(args?.inputs.secretKey).toEqual(secret(SK));
  expect(args?.inputs.securityToken).toEqual(secret(TOKEN));
  expect(args?.inputs.projectId).toBe("p");
});

test("customTimeouts are forwarded as an input, since the host drops them", async () => {
  const reset = new OffsetReset(
    "with-timeouts",
    { region: "cn-north-4", projectId: "p", instanceId: "i", group: "g", messageOffset: 2n ** 53n + 1n },
    { customTimeouts: { create: "2m", delete: "1m" } },
  );
  await urnOf(reset);
  const args = registered.find((a) => a.name === "with-timeouts");
  expect(args?.inputs.customTimeouts).toEqual({ create: "2m" });
  expect(args?.inputs.messageOffset).toBe("9007199254740993");
});
