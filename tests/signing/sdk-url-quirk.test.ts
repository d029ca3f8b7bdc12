// Where the official Node.js SDK signer and ours part ways on a path, and why ours is the one the
// gateway agrees with. AKSKSigner.sign runs the URL through Node's legacy `url.parse`, which escapes
// some characters itself and treats others as URL structure, before encoding each path segment; the
// gateway instead decodes each segment it received and encodes it again (canonicalUriFromReceived).
// The referee test leaves exactly these characters out of raw paths; this file pins them.
import { canonicalUri, canonicalUriFromReceived, encodePath, percentEncode, type Query } from "../../provider/dms/signing/encoding";
import { signRequest, formatSdkDate, type Credentials } from "../../provider/dms/signing/signer";
import { sdkSign, trimmedAtEndByUrlParse, URL_PARSE_ESCAPES, URL_STRUCTURE } from "./sdk-signer";

const credentials: Credentials = { accessKey: "QUIRKACCESSKEY000001", secretKey: "quirk-secret-key-0000000000000000000000" };
const date = new Date(Date.UTC(2026, 10, 24, 2, 0, 0));
const host = "dms.cn-north-4.myhuaweicloud.com";

function sdkAuthorization(rawPath: string, query: Query = {}): string | undefined {
  const headers = sdkSign({ method: "POST", endpoint: `https://${host}`, rawPath, query, sdkDate: formatSdkDate(date) }, credentials);
  return headers["Authorization"];
}

function ourAuthorization(encodedPath: string, query: Query = {}): string | undefined {
  return signRequest({ method: "POST", host, encodedPath, query, body: "" }, credentials, date)["authorization"];
}

function agreeOnSegment(segment: string): boolean {
  return sdkAuthorization(`/x/${segment}`) === ourAuthorization(encodePath(["x", segment]));
}

/** Every code point except the surrogates (a UTF-8 name cannot hold a lone one). */
function everyCodePoint(from: number, to: number): string[] {
  const chars: string[] = [];
  for (let c = from; c <= to; c++) if (c < 0xd800 || c > 0xdfff) chars.push(String.fromCodePoint(c));
  return chars;
}

/** The characters, among `chars`, that break agreement: halves a failing batch until single characters remain. */
function disagreeing(chars: string[], agree: (s: string) => boolean): string[] {
  if (agree(chars.join(""))) return [];
  if (chars.length === 1) return chars;
  const half = chars.length >> 1;
  return [...disagreeing(chars.slice(0, half), agree), ...disagreeing(chars.slice(half), agree)];
}

describe("characters url.parse escapes in a path: the SDK encodes them twice", () => {
  test.each([
    ["\t", "a%2509b"],
    ["\n", "a%250Ab"],
    ["\r", "a%250Db"],
    [" ", "a%2520b"],
    ['"', "a%2522b"],
    ["'", "a%2527b"],
    ["<", "a%253Cb"],
    [">", "a%253Eb"],
    ["^", "a%255Eb"],
    ["`", "a%2560b"],
    ["{", "a%257Bb"],
    ["|", "a%257Cb"],
    ["}", "a%257Db"],
  ])("%j: the SDK signs %s, we sign and send it encoded once, as the gateway rebuilds it", (ch, sdkSegment) => {
    const sent = encodePath(["x", `a${ch}b`]);
    expect(sdkAuthorization(`/x/a${ch}b`)).toBe(ourAuthorization(`/x/${sdkSegment}`));
    expect(sent).toBe(`/x/a${percentEncode(ch)}b`);
    expect(ourAuthorization(sent)).not.toBe(sdkAuthorization(`/x/a${ch}b`));
    expect(canonicalUriFromReceived(sent)).toBe(canonicalUri(sent));
  });
});

describe("characters that are URL structure to url.parse", () => {
  test("a backslash becomes a segment separator in the SDK", () => {
    expect(sdkAuthorization("/x/a\\b")).toBe(ourAuthorization(encodePath(["x", "a", "b"])));
    expect(canonicalUriFromReceived(encodePath(["x", "a\\b"]))).toBe("/x/a%5Cb/");
  });
  test.each(["?", "#"])("%s ends the path the SDK signs", (ch) => {
    expect(sdkAuthorization(`/x/a${ch}b/c`)).toBe(ourAuthorization(encodePath(["x", "a"])));
    expect(canonicalUriFromReceived(encodePath(["x", `a${ch}b`, "c"]))).toBe(`/x/a${percentEncode(ch)}b/c/`);
  });
  test.each(["\u0000", "\u001f", "\u00a0", "\ufeff"])("%j is kept inside the path but trimmed off its end by the SDK", (ch) => {
    expect(agreeOnSegment(`a${ch}b`)).toBe(true);
    expect(sdkAuthorization(`/x/a${ch}`)).toBe(ourAuthorization(encodePath(["x", "a"])));
  });
});

describe("exactly these characters, over all of Unicode", () => {
  test("inside a segment, the SDK disagrees with us on the url.parse escapes and structure characters only", () => {
    expect(disagreeing(everyCodePoint(0, 0x10ffff), (s) => agreeOnSegment(`a${s}b`)).sort()).toEqual([...URL_PARSE_ESCAPES, ...URL_STRUCTURE].sort());
  });
  test("ending the path, the SDK also drops what url.parse trims as whitespace (the BMP, one by one)", () => {
    const atEnd = everyCodePoint(0, 0xffff).filter((ch) => !agreeOnSegment(`a${ch}`));
    const expected = everyCodePoint(0, 0xffff).filter((ch) => trimmedAtEndByUrlParse(ch) || URL_PARSE_ESCAPES.includes(ch) || URL_STRUCTURE.includes(ch));
    expect(atEnd).toEqual(expected);
  });
});

describe("query keys and values: the SDK encodes them from the object, not the URL", () => {
  test.each([...URL_PARSE_ESCAPES, ...URL_STRUCTURE, "%", "&", "=", "+", "\u0000", "\u00a0", "\ufeff"])("%j agrees, inside and at the end", (ch) => {
    const query: Query = { [`k${ch}`]: `v${ch}w${ch}`, [ch]: [ch, `${ch}${ch}`, ""] };
    expect(sdkAuthorization("/x", query)).toBe(ourAuthorization("/x", query));
  });
  test("every code point agrees in a query value", () => {
    expect(disagreeing(everyCodePoint(0, 0x10ffff), (s) => sdkAuthorization("/x", { v: s }) === ourAuthorization("/x", { v: s }))).toEqual([]);
  });
});
