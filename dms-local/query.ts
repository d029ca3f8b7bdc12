// Reading a DMS request's path and query parameters, with DMS's answer to a bad one (400 naming it).
import { invalidParameter } from "./errors";
import type { HandlerContext } from "./routes";

export const param = (ctx: HandlerContext, name: string): string => ctx.params[name] as string;

export function firstQuery(ctx: HandlerContext, name: string): string | undefined {
  return ctx.query[name]?.[0];
}

/** A non-negative integer query parameter within [min, max], or its default. */
export function intQuery(ctx: HandlerContext, name: string, fallback: number, min: number, max: number): number {
  const raw = firstQuery(ctx, name);
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw invalidParameter(name, `must be an integer from ${min} to ${max}`);
  return Number(raw);
}
