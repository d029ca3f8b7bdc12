// Plain-text tables for the CLI and the provider log: left-aligned text, right-aligned numbers, two spaces apart.

export type Cell = string | number | bigint;

export function renderTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => r.map(String));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] !== "string" || /^-?\d+$/.test(r[c] as string)));
  const widths = header.map((h, c) => Math.max(h.length, ...text.map((r) => (r[c] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...text.map(line)].join("\n");
}
