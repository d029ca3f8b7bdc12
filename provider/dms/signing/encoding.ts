// The percent-encoding Huawei's signers use, kept apart from signing and from HTTP so that the
// client (to build the path it sends) and dms-local (to rebuild what was signed) share it.

const HEX = "0123456789ABCDEF";
/** Strings of unreserved characters only, which encode to themselves: most segments (ids, `v2`, `instances`) and query values. */
const UNRESERVED_ONLY = /^[A-Za-z0-9\-_.~]*$/;
/** `%XX` for every byte value. */
const PERCENT: readonly string[] = Array.from({ length: 256 }, (_, b) => `%${HEX[b >> 4]}${HEX[b & 15]}`);
/** What each ASCII code encodes to: itself when unreserved, else its `%XX`. */
const ASCII: readonly string[] = PERCENT.slice(0, 128).map((escaped, c) => {
  const ch = String.fromCharCode(c);
  return UNRESERVED_ONLY.test(ch) ? ch : escaped;
});
/** A lone surrogate has no UTF-8 form; like TextEncoder, encode U+FFFD in its place. */
const REPLACEMENT = "%EF%BF%BD";

/**
 * Every byte of the UTF-8 form as `%XX` (upper-case hex), except the unreserved `A-Z a-z 0-9 - _ . ~`.
 * Writes the UTF-8 bytes itself, from the UTF-16 code units, because it runs for every segment and
 * query part of every signed request: table look-ups instead of a regex and an encoder call per character.
 */
export function percentEncode(value: string): string {
  // One regex test is a fraction of rebuilding the string character by character.
  if (UNRESERVED_ONLY.test(value)) return value;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) {
      out += ASCII[c];
    } else if (c < 0x800) {
      out += `${PERCENT[0xc0 | (c >> 6)]}${PERCENT[0x80 | (c & 0x3f)]}`;
    } else if (c < 0xd800 || c > 0xdfff) {
      out += `${PERCENT[0xe0 | (c >> 12)]}${PERCENT[0x80 | ((c >> 6) & 0x3f)]}${PERCENT[0x80 | (c & 0x3f)]}`;
    } else {
      const low = value.charCodeAt(i + 1);
      if (c > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) {
        out += REPLACEMENT;
        continue;
      }
      i++;
      const cp = 0x10000 + ((c & 0x3ff) << 10) + (low & 0x3ff);
      out += `${PERCENT[0xf0 | (cp >> 18)]}${PERCENT[0x80 | ((cp >> 12) & 0x3f)]}${PERCENT[0x80 | ((cp >> 6) & 0x3f)]}${PERCENT[0x80 | (cp & 0x3f)]}`;
    }
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
