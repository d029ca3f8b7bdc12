import { KafkaRegion } from "@huaweicloud/huaweicloud-sdk-kafka/v2/KafkaRegion";
import { credentialsFromEnv, projectIdFromEnv, regionFromEnv } from "../../provider/dms/credentials";
import { KAFKA_REGIONS, resolveEndpoint } from "../../provider/dms/endpoints";
import { ConfigurationError } from "../../provider/dms/errors";

describe("resolveEndpoint", () => {
  test("maps every region exactly as the official SDK's KafkaRegion table", () => {
    const sdk = (KafkaRegion as unknown as { REGION_MAP: Record<string, { endpoints: string[] }> }).REGION_MAP;
    expect([...KAFKA_REGIONS].sort()).toEqual(Object.keys(sdk).sort());
    for (const region of KAFKA_REGIONS) {
      expect(resolveEndpoint({ region }).origin).toBe(sdk[region]?.endpoints[0]);
    }
    expect(resolveEndpoint({ region: "eu-west-101" }).href).toBe("https://dms.eu-west-101.myhuaweicloud.eu/");
  });

  test("an explicit endpoint may be any host; with a region too, neither wins", () => {
    expect(resolveEndpoint({ endpoint: "https://dms.hcs.example.internal:8443" }).origin).toBe("https://dms.hcs.example.internal:8443");
    expect(() => resolveEndpoint({ endpoint: "https://dms.hcs.example.internal:8443", region: "cn-north-4" })).toThrow(/set endpoint or region, not both/);
    expect(() => resolveEndpoint({ endpoint: "https://x.example", region: "cn-north-4" }, { endpoint: "--endpoint", region: "--region" })).toThrow(/set --endpoint or --region, not both/);
  });

  test("an unknown region names the fix", () => {
    expect(() => resolveEndpoint({ region: "mars-1" })).toThrow(/unknown DMS region "mars-1".*cn-north-4.*endpoint/);
  });

  test("neither endpoint nor region names both fields", () => {
    expect(() => resolveEndpoint({})).toThrow(ConfigurationError);
    expect(() => resolveEndpoint({})).toThrow(/endpoint.*region/);
  });

  test.each(["http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:1", "http://[::1]:9000"])("plain http is allowed on loopback %s", (endpoint) => {
    expect(resolveEndpoint({ endpoint }).protocol).toBe("http:");
  });

  test("plain http to another host is refused unless allowed explicitly, offering only a setting the caller has", () => {
    expect(() => resolveEndpoint({ endpoint: "http://dms.example.com" })).toThrow(/refusing plain http to dms\.example\.com.*use https:\/\/ \(plain http is allowed only to loopback\)$/);
    expect(() => resolveEndpoint({ endpoint: "http://dms.example.com" }, { endpoint: "--endpoint", region: "--region", allowInsecureHttp: "--allow-insecure-http" })).toThrow(/allow plain http explicitly with --allow-insecure-http/);
    expect(() => resolveEndpoint({ endpoint: "http://10.0.0.5:80" })).toThrow(/refusing plain http/);
    expect(resolveEndpoint({ endpoint: "http://dms.example.com", allowInsecureHttp: true }).host).toBe("dms.example.com");
  });

  test.each([
    ["dms.example.com", /not a URL/],
    ["ftp://dms.example.com", /https:\/\//],
    ["https://dms.example.com/v2", /without a path/],
    ["https://ak:sk@dms.example.com", /user or password/],
  ])("refuses endpoint %s", (endpoint, reason) => {
    expect(() => resolveEndpoint({ endpoint })).toThrow(reason);
  });
});

describe("credentialsFromEnv", () => {
  test("reads the SDK samples' names first, then Terraform's", () => {
    expect(credentialsFromEnv({ CLOUD_SDK_AK: "a1", CLOUD_SDK_SK: "s1", HW_ACCESS_KEY: "a2", HW_SECRET_KEY: "s2" })).toEqual({ accessKey: "a1", secretKey: "s1" });
    expect(credentialsFromEnv({ HW_ACCESS_KEY: "a2", HW_SECRET_KEY: "s2", HW_SECURITY_TOKEN: "t2" })).toEqual({ accessKey: "a2", secretKey: "s2", securityToken: "t2" });
    expect(credentialsFromEnv({ CLOUD_SDK_AK: "a1", CLOUD_SDK_SK: "s1", CLOUD_SDK_SECURITY_TOKEN: "t1" }).securityToken).toBe("t1");
  });

  test("missing credentials name the variables, never a value", () => {
    expect(() => credentialsFromEnv({})).toThrow(/CLOUD_SDK_AK and CLOUD_SDK_SK \(or HW_ACCESS_KEY and HW_SECRET_KEY\)/);
    let message = "";
    try {
      credentialsFromEnv({ CLOUD_SDK_AK: "AKVALUE-visible", HW_SECRET_KEY: "SKVALUE-secret" });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/only CLOUD_SDK_AK, HW_SECRET_KEY are set/);
    expect(message).not.toMatch(/AKVALUE|SKVALUE/);
  });

  test("region and project come from HW_REGION_NAME and HW_PROJECT_ID", () => {
    expect(regionFromEnv({ HW_REGION_NAME: "cn-north-4" })).toBe("cn-north-4");
    expect(projectIdFromEnv({ HW_PROJECT_ID: "p1" })).toBe("p1");
    expect(regionFromEnv({})).toBeUndefined();
  });
});
