// Huawei's official Node.js signer (@huaweicloud/huaweicloud-sdk-core 3.1.211), called the way the SDK
// calls it, so that tests can hold our signer against it. In the SDK, HcClient substitutes path
// parameters into the path template unencoded and BaseCredentials.processAuthRequest hands
// AKSKSigner.sign the URL `${endpoint}${path}`, the headers (X-Security-Token, X-Project-Id, the
// request's own) and the body object.
import { AKSKSigner } from "@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner";
import { BasicCredentials } from "@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials";
import type { Query } from "../../provider/dms/signing/encoding";
import type { Credentials } from "../../provider/dms/signing/signer";

export interface SdkRequest {
  method: string;
  /** `scheme://host[:port]`: the SDK signs the host it parses out of this. */
  endpoint: string;
  /** The path with its segments unencoded, as HcClient builds it. */
  rawPath: string;
  query: Query;
  /** The body object (the SDK signs `JSON.stringify(data)`); undefined for no body. */
  data?: unknown;
  projectId?: string;
  contentType?: string;
  /** Given so that the SDK signs this date instead of the clock's. */
  sdkDate: string;
}

/**
 * Characters that Node's legacy `url.parse` (which AKSKSigner runs the URL through) escapes itself
 * inside a path. The SDK then percent-encodes the escape again (`a b` → `a%20b` → `a%2520b`),
 * whereas the gateway decodes the received path before encoding it: a raw path segment holding one
 * of these cannot be compared with the SDK.
 */
export const URL_PARSE_ESCAPES: readonly string[] = ["\t", "\n", "\r", " ", '"', "'", "<", ">", "^", "`", "{", "|", "}"];

/**
 * Characters that change the URL's structure instead of staying in the segment: `/` separates
 * segments, `url.parse` turns `\` into `/`, `?` starts the query and `#` the fragment.
 */
export const URL_STRUCTURE: readonly string[] = ["/", "\\", "?", "#"];

/**
 * `url.parse` trims what it counts as whitespace (U+0000–U+0020, U+00A0, U+FEFF) from both ends of
 * the URL, so the SDK drops such a character when it ends the path; inside the path it is kept.
 */
export function trimmedAtEndByUrlParse(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return code <= 0x20 || code === 0xa0 || code === 0xfeff;
}

/** The headers AKSKSigner.sign returns: the request's own, `host` and `Authorization`. */
export function sdkSign(req: SdkRequest, credentials: Credentials): Record<string, string> {
  const headers: Record<string, string> = {};
  if (credentials.securityToken !== undefined) headers["X-Security-Token"] = credentials.securityToken;
  if (req.projectId !== undefined) headers["X-Project-Id"] = req.projectId;
  headers["Content-Type"] = req.contentType ?? "application/json";
  headers["X-Sdk-Date"] = req.sdkDate;
  // sign() sorts a repeated key's values in place: hand it copies.
  const queryParams = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, typeof v === "string" ? v : [...v]]));
  const credential = new BasicCredentials().withAk(credentials.accessKey).withSk(credentials.secretKey);
  const signed = AKSKSigner.sign(
    { method: req.method, endpoint: `${req.endpoint}${req.rawPath}`, headers, queryParams, data: req.data },
    credential,
  );
  return signed as Record<string, string>;
}
