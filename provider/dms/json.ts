// DMS offsets are int64. JSON.parse rounds integers past 2^53 and JSON.stringify cannot write a bigint,
// so every DMS body goes through these two functions: integers that a double cannot hold exactly are
// read as decimal strings, and bigints are written as bare digits.

const INT64_MARK = "\u0000int64:";
const MARKED = /"\\u0000int64:(-?\d+)"/g;

/** JSON.stringify, except that a bigint is written as its exact decimal digits. */
export function stringifyJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${INT64_MARK}${v}` : v));
  return text.replace(MARKED, "$1");
}

/** JSON.parse, except that integer literals beyond Number.MAX_SAFE_INTEGER arrive as decimal strings. */
export function parseJson(text: string): unknown {
  let out = "";
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
      i++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text.charAt(j))) j++;
      const token = text.slice(i, j);
      if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
        out += `${text.slice(copied, i)}"${token}"`;
        copied = j;
      }
      i = j;
      continue;
    }
    i++;
  }
  return JSON.parse(copied === 0 ? text : out + text.slice(copied));
}
