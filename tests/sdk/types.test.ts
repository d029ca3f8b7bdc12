// The SDK's argument types, as an editor checks them: typecheck (npm test) fails when an expected error
// below (ts-expect-error) no longer finds one, or when an accepted program stops compiling.
import * as pulumi from "@pulumi/pulumi";
import type { OffsetResetArgs } from "../../sdk";

const where = { projectId: "0123456789abcdef0123456789abcdef", instanceId: "i", group: "billing" };

export const accepted: OffsetResetArgs[] = [
  { ...where, timestamp: "2026-11-24T02:00:00Z" },
  { ...where, timestamp: new Date(Date.UTC(2026, 10, 24, 2)) },
  { ...where, timestamp: 1_764_000_000_000, topic: "payments", partition: 0 },
  { ...where, messageOffset: 9007199254740993n },
  { ...where, messageOffset: "9007199254740993" },
  { ...where, earliest: true, topics: ["payments:0,1", { topic: "orders" }] },
  { ...where, latest: true },
  { ...where, shiftBy: -100 },
  { ...where, toGroup: "billing-replica" },
  { ...where, offsets: [{ topic: "payments", partition: 0, offset: "47990" }] },
  // The outputs of another OffsetReset undo it.
  { ...where, offsets: pulumi.output([{ topic: "payments", partition: 0, messageCurrentOffset: "47990", messageLogStartOffset: "0", messageLogEndOffset: "48000", lag: "10" }]) },
  { ...where, messageOffset: 5, waitForInactiveGroupSeconds: 60, forbidForward: true, triggers: ["INC-1"], endpoint: "http://127.0.0.1:18080" },
];

// @ts-expect-error no target
export const none: OffsetResetArgs = { ...where };
// @ts-expect-error two targets
export const two: OffsetResetArgs = { ...where, messageOffset: 5, timestamp: "2026-11-24T02:00:00Z" };
// @ts-expect-error earliest: false is no target
export const notEarliest: OffsetResetArgs = { ...where, earliest: false };
// @ts-expect-error group is required
export const noGroup: OffsetResetArgs = { projectId: "p", instanceId: "i", latest: true };
// @ts-expect-error a misspelt input
export const typo: OffsetResetArgs = { ...where, messageOfset: 5 };

test("the argument types are checked by the compiler (npm run typecheck)", () => {
  expect(accepted).toHaveLength(12);
});
