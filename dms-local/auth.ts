// Server-side SDK-HMAC-SHA256, as Huawei's API gateway checks it: the signature is recomputed from
// the request as received (path segments decoded and re-encoded, raw query with repeated keys, the
// signed headers' values, the body bytes) and compared in constant time.
import { timingSafeEqual } from "node:crypto";
import { canonicalUriFromReceived, type Query } from "../provider/dms/signing/encoding";
import { ALGORITHM, canonicalRequest, parseSdkDate, signature, stringToSign } from "../provider/dms/signing/signer";
import { badAuthentication, wrongProject, type DmsError } from "./errors";
import type { Seed } from "./seed";

/** The gateway refuses requests whose X-Sdk-Date is further than this from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface ReceivedRequest {
  method: string;
  /** The path exactly as it arrived, still percent-encoded. */
  rawPath: string;
  /** The query string as it arrived, without `?`. */
  rawQuery: string;
  /** Node's lower-cased headers. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Uint8Array;
}

export type AuthOutcome = { ok: true; credentialIndex: number } | { ok: false; error: DmsError };

const AUTHORIZATION = new RegExp(`^${ALGORITHM} Access=([^,\\s]+), ?SignedHeaders=([^,\\s]+), ?Signature=([0-9a-fA-F]+)$`);

/** Parse a raw query into its keys' values, repeated keys kept, each key and value decoded once. */
export function parseRawQuery(rawQuery: string): Record<string, string[]> {
  const query: Record<string, string[]> = {};
  if (rawQuery === "") return query;
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
    (query[key] ??= []).push(value);
  }
  return query;
}

function header(req: ReceivedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

const deny = (error: DmsError): AuthOutcome => ({ ok: false, error });

/**
 * Whether the request names a known access key in a well-formed Authorization header: only such a
 * request can pass `authenticate`, so only its body is worth holding in memory (the signature covers it).
 */
export function claimsKnownAccessKey(headers: ReceivedRequest["headers"], seed: Pick<Seed, "credentials">): boolean {
  const authorization = headers["authorization"];
  if (typeof authorization !== "string") return false;
  const accessKey = AUTHORIZATION.exec(authorization.trim())?.[1];
  return accessKey !== undefined && seed.credentials.some((c) => sameSecret(c.ak, accessKey));
}

/**
 * Authenticate a DMS API request. `pathProjectId` is the decoded `{project_id}` of the route.
 * Nothing secret (AK, SK, token, signature) ever appears in an outcome's message.
 */
export function authenticate(
  req: ReceivedRequest,
  pathProjectId: string,
  seed: Pick<Seed, "credentials" | "projectId">,
  now: Date,
): AuthOutcome {
  const authorization = header(req, "authorization");
  if (authorization === undefined) return deny(badAuthentication("Authorization header not found"));
  const parsed = AUTHORIZATION.exec(authorization.trim());
  if (!parsed) return deny(badAuthentication(`Authorization is not "${ALGORITHM} Access=…, SignedHeaders=…, Signature=…"`));
  const [, accessKey = "", signedHeaderList = "", claimed = ""] = parsed;

  const credentialIndex = seed.credentials.findIndex((c) => sameSecret(c.ak, accessKey));
  const credential = seed.credentials[credentialIndex];
  if (!credential) return deny(badAuthentication("the access key is unknown"));

  const sdkDate = header(req, "x-sdk-date");
  const date = sdkDate === undefined ? undefined : parseSdkDate(sdkDate);
  if (sdkDate === undefined || date === undefined) return deny(badAuthentication("X-Sdk-Date is missing or not YYYYMMDDTHHMMSSZ"));
  if (Math.abs(now.getTime() - date.getTime()) > MAX_CLOCK_SKEW_MS) {
    return deny(badAuthentication("X-Sdk-Date is more than 15 minutes away from the server's time: check the clock"));
  }

  const names = signedHeaderList.split(";");
  for (const required of ["host", "x-sdk-date"]) {
    if (!names.includes(required)) return deny(badAuthentication(`SignedHeaders must include ${required}`));
  }
  const signed: Record<string, string> = {};
  for (const name of names) {
    const value = header(req, name);
    if (value === undefined) return deny(badAuthentication(`signed header ${name} is not in the request`));
    signed[name] = value;
  }

  const token = header(req, "x-security-token");
  if (credential.securityToken !== undefined || token !== undefined) {
    if (token === undefined || !names.includes("x-security-token")) return deny(badAuthentication("temporary credentials need a signed X-Security-Token"));
    if (credential.securityToken === undefined || !sameSecret(credential.securityToken, token)) {
      return deny(badAuthentication("the security token is not valid for this access key"));
    }
  }

  let canonical: string;
  try {
    canonical = canonicalRequest({
      method: req.method,
      encodedPath: canonicalUriFromReceived(req.rawPath),
      query: parseRawQuery(req.rawQuery) as Query,
      headers: signed,
      body: req.body,
    });
  } catch {
    return deny(badAuthentication("the path or query has malformed percent-escapes"));
  }
  const expected = signature(credential.sk, stringToSign(sdkDate, canonical));
  if (!sameSecret(expected, claimed.toLowerCase())) return deny(badAuthentication("verify aksk signature fail"));

  const headerProject = header(req, "x-project-id");
  if (headerProject !== undefined && headerProject !== seed.projectId) {
    return deny(wrongProject("X-Project-Id is not the project of these credentials"));
  }
  if (pathProjectId !== seed.projectId) return deny(wrongProject("the project ID in the path is not the project of these credentials"));
  return { ok: true, credentialIndex };
}
