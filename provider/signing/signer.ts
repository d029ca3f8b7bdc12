// SDK-HMAC-SHA256, in the stages Huawei's gateway recomputes: canonical request → string to sign →
// signature → Authorization. Pure functions of their inputs; the caller supplies the date.
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { canonicalQuery, canonicalUri, type Query } from "./encoding";

export const ALGORITHM = "SDK-HMAC-SHA256";

export interface SigningInput {
  method: string;
  /** The path exactly as sent: each segment already percent-encoded (see encoding.ts). */
  encodedPath: string;
  query: Query;
  /** The headers to sign, by name (any case); values as sent. */
  headers: Readonly<Record<string, string>>;
  /** The body bytes as sent; empty when there is none. */
  body: Uint8Array | string;
}

export interface Credentials {
  accessKey: string;
  secretKey: string;
  securityToken?: string;
}

/** `YYYYMMDDTHHMMSSZ`, UTC: the `X-Sdk-Date` header. */
export function formatSdkDate(date: Date): string {
  return date.toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/** Parse an `X-Sdk-Date` back into a Date, or undefined when malformed. */
export function parseSdkDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/**
 * UTF-8 bytes to hash. Node's Buffer, because noble's utf8ToBytes builds a TextEncoder and copies its
 * output on every call, and each signature encodes four strings (body, canonical request, key, string to sign).
 */
function utf8(text: string): Uint8Array {
  return Buffer.from(text, "utf8");
}

export function hexSha256(data: Uint8Array | string): string {
  return bytesToHex(sha256(typeof data === "string" ? utf8(data) : data));
}

/** Lower-cased header names, sorted: the `SignedHeaders` list. */
export function signedHeaderNames(headers: Readonly<Record<string, string>>): string[] {
  return Object.keys(headers)
    .map((h) => h.toLowerCase())
    .sort();
}

export function canonicalRequest(input: SigningInput): string {
  const names = signedHeaderNames(input.headers);
  const byLowerName = new Map(Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return [
    input.method.toUpperCase(),
    canonicalUri(input.encodedPath),
    canonicalQuery(input.query),
    names.map((n) => `${n}:${byLowerName.get(n) ?? ""}\n`).join(""),
    names.join(";"),
    hexSha256(input.body),
  ].join("\n");
}

export function stringToSign(sdkDate: string, canonical: string): string {
  return `${ALGORITHM}\n${sdkDate}\n${hexSha256(canonical)}`;
}

export function signature(secretKey: string, toSign: string): string {
  return bytesToHex(hmac(sha256, utf8(secretKey), utf8(toSign)));
}

export function authorizationHeader(accessKey: string, names: readonly string[], sig: string): string {
  return `${ALGORITHM} Access=${accessKey}, SignedHeaders=${names.join(";")}, Signature=${sig}`;
}

/**
 * The headers a DMS request carries: `Host`, `X-Sdk-Date`, `Content-Type`, `X-Project-Id`,
 * `X-Security-Token` when the credentials are temporary, and the `Authorization` over all of them.
 */
export function signRequest(
  req: { method: string; host: string; encodedPath: string; query: Query; body: Uint8Array | string; projectId?: string; contentType?: string },
  credentials: Credentials,
  date: Date,
): Record<string, string> {
  const headers: Record<string, string> = {
    host: req.host,
    "x-sdk-date": formatSdkDate(date),
    "content-type": req.contentType ?? "application/json",
  };
  if (req.projectId !== undefined) headers["x-project-id"] = req.projectId;
  if (credentials.securityToken !== undefined) headers["x-security-token"] = credentials.securityToken;
  const canonical = canonicalRequest({ method: req.method, encodedPath: req.encodedPath, query: req.query, headers, body: req.body });
  const sig = signature(credentials.secretKey, stringToSign(headers["x-sdk-date"] as string, canonical));
  return { ...headers, authorization: authorizationHeader(credentials.accessKey, signedHeaderNames(headers), sig) };
}
