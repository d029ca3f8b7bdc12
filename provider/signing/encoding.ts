// The percent-encoding Huawei's signers use, kept apart from signing and from HTTP so that the
// client (to build the path it sends) and dms-local (to rebuild what was signed) share it.

const UNRESERVED = /[A-Za-z0-9\-_.~]/;
const HEX = "0123456789ABCDEF";
const encoder = new TextEncoder();

/** Every byte of the UTF-8 form as `%XX` (upper-case hex), except the unreserved `A-Z a-z 0-9 - _ . ~`. */
export function percentEncode(value: string): string {
  let out = "";
  for (const ch of value) {
    if (ch.length === 1 && UNRESERVED.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of encoder.encode(ch)) out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/** A path from raw (unencoded) segments, each encoded once: this exact string is both sent and signed. */
export function encodePath(segments: readonly string[]): string {
  return `/${segments.map(percentEncode).join("/")}`;
}

/** The canonical URI of an already-encoded path as sent on the wire: the same path, ending in `/`. */
export function canonicalUri(encodedPath: string): string {
  return encodedPath.endsWith("/") ? encodedPath : `${encodedPath}/`;
}

/**
 * The canonical URI a gateway rebuilds from the path it received: each segment decoded and encoded
 * again with the signer's table, so that any client's (equivalent) choice of escapes verifies.
 */
export function canonicalUriFromReceived(receivedPath: string): string {
  return canonicalUri(receivedPath.split("/").map((s) => percentEncode(decodeURIComponent(s))).join("/"));
}

/** Query parameters: a key may repeat. */
export type Query = Readonly<Record<string, string | readonly string[]>>;

/** Keys sorted; `key=value` encoded; a repeated key's values sorted; joined by `&`. */
export function canonicalQuery(query: Query): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    const values = typeof value === "string" ? [value] : [...(value ?? [])].sort();
    for (const v of values) parts.push(`${percentEncode(key)}=${percentEncode(v)}`);
  }
  return parts.join("&");
}
