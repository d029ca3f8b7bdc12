// Where DMS requests go: an explicit endpoint (any host: Huawei Cloud Stack and other clouds on the same
// stack serve the same paths), or a public region mapped the way the official SDK's KafkaRegion does.
import { ConfigurationError } from "./errors";

/** The regions of `@huaweicloud/huaweicloud-sdk-kafka` 3.1.215's KafkaRegion table, in its order. */
export const KAFKA_REGIONS: readonly string[] = [
  "eu-west-101", "cn-north-1", "cn-north-2", "cn-north-4", "cn-east-3", "cn-east-2", "cn-south-1", "cn-south-2",
  "cn-southwest-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "af-south-1", "ru-northwest-2", "cn-north-9",
  "la-south-2", "sa-brazil-1", "la-north-2", "na-mexico-1", "ap-southeast-4", "tr-west-1", "ae-ad-1", "eu-west-0",
  "me-east-1", "cn-east-5", "my-kualalumpur-1", "cn-east-4", "af-north-1", "ap-southeast-5", "ru-moscow-1",
  "cn-south-4", "cn-north-12", "cn-north-11", "cn-southwest-3",
];

/** The one region the SDK serves from Huawei Cloud's European domain. */
const EU_DOMAIN_REGIONS = new Set(["eu-west-101"]);

export interface EndpointOptions {
  endpoint?: string;
  region?: string;
  allowInsecureHttp?: boolean;
}

/** How the caller names these settings in messages; `allowInsecureHttp` undefined: it offers no such setting. */
export interface EndpointNames {
  endpoint: string;
  region: string;
  allowInsecureHttp?: string;
}

const INPUT_NAMES: EndpointNames = { endpoint: "endpoint", region: "region" };

/** Plain HTTP never leaves the machine unless asked: signed requests are replayable for 15 minutes. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

export function resolveEndpoint(options: EndpointOptions, names: EndpointNames = INPUT_NAMES): URL {
  const endpoint = options.endpoint?.trim();
  const region = options.region?.trim();
  let url: URL;
  if (endpoint && region) throw new ConfigurationError(`set ${names.endpoint} or ${names.region}, not both: they name the same thing`);
  if (endpoint) {
    url = parseEndpoint(endpoint, names.endpoint);
  } else if (region) {
    if (!KAFKA_REGIONS.includes(region)) {
      throw new ConfigurationError(
        `unknown DMS region "${region}": use one of ${KAFKA_REGIONS.join(", ")}, ` +
          `or set ${names.endpoint} to the DMS URL of your cloud (e.g. https://dms.example-region.example.com)`,
      );
    }
    url = new URL(`https://dms.${region}.myhuaweicloud.${EU_DOMAIN_REGIONS.has(region) ? "eu" : "com"}`);
  } else {
    throw new ConfigurationError(`no DMS endpoint: set ${names.endpoint} (e.g. https://dms.cn-north-4.myhuaweicloud.com) or ${names.region} (e.g. cn-north-4)`);
  }
  if (url.protocol === "http:" && !options.allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    throw new ConfigurationError(
      `refusing plain http to ${url.host}: signed requests and offsets would cross the network unencrypted; ` +
        (names.allowInsecureHttp ? `use https://, or allow plain http explicitly with ${names.allowInsecureHttp}` : "use https:// (plain http is allowed only to loopback)"),
    );
  }
  return url;
}

function parseEndpoint(endpoint: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigurationError(`${name} "${endpoint}" is not a URL: write it as https://host[:port]`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigurationError(`${name} "${endpoint}" must start with https:// (or http:// for a local endpoint)`);
  }
  if (url.username || url.password) {
    throw new ConfigurationError(`${name} must not carry a user or password: DMS requests are signed with the access key instead`);
  }
  // Every DMS path starts at /v2; a base path or query would silently change what is signed.
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new ConfigurationError(`${name} "${endpoint}" must be scheme://host[:port] without a path: DMS paths start at /v2`);
  }
  return new URL(url.origin);
}
