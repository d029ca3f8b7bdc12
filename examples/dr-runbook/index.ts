// Disaster-recovery runbook: rewind several consumer groups of one instance to the same incident time,
// one OffsetReset per group (each group is its own reviewed, recorded rewind), and undo them as code.
//
//   pulumi config set incidentTimestamp 2023-11-15T06:00:00Z
//   pulumi config set --path 'groups[0]' billing && pulumi config set --path 'groups[1]' g-idle
//   pulumi preview                        # every partition's move, before anything is sent
//   pulumi up
//   pulumi config set runbookRun 2        # re-apply the same rewind (e.g. after consumers replayed again)
//   pulumi config set undo true && pulumi up   # put every group back where it was before its rewind
//
// Changing incidentTimestamp replaces every rewind (a new reviewed rewind); changing runbookRun re-applies
// it through `triggers`. Credentials come from stack configuration, read by the provider itself:
//   pulumi config set --secret dms-offset-reset:accessKey …; pulumi config set --secret dms-offset-reset:secretKey …
import * as pulumi from "@pulumi/pulumi";
import { OffsetReset } from "pulumi-dms-offset-reset";

const config = new pulumi.Config();
const incidentTimestamp = config.require("incidentTimestamp");
const groups = config.getObject<string[]>("groups") ?? ["billing", "g-idle"];
const region = config.get("region");
const endpoint = region ? undefined : config.get("endpoint") ?? `http://127.0.0.1:${process.env.DMS_LOCAL_PORT ?? "18080"}`;
const where = {
  ...(region ? { region } : { endpoint }),
  projectId: config.get("projectId") ?? "0e1c5f7a9b3d4e6f8a2c4b6d8e0f1a3c",
  instanceId: config.get("instanceId") ?? "8f2d6c1e-3b5a-4e79-9c0d-2a4b6e8f1c3d",
};

const rewinds = groups.map(
  (group) =>
    new OffsetReset(
      `dr-${group}`,
      {
        ...where,
        group,
        timestamp: incidentTimestamp,
        // Consumers are being stopped as the runbook runs: give them time to leave the group.
        waitForInactiveGroupSeconds: 300,
        // A runbook that must never skip records: a plan that moves any partition forward fails instead.
        forbidForward: true,
        triggers: { runbookRun: config.get("runbookRun") ?? "1" },
      },
      // Bounds the wait for the group and for DMS's all-topics task (the provider reads these).
      { customTimeouts: { create: "10m", update: "10m" } },
    ),
);

// Undo as code: each rewind's previousOffsets, passed as the offsets of a new OffsetReset.
const undos = config.getBoolean("undo")
  ? rewinds.map((rewind, i) => new OffsetReset(`undo-${groups[i]}`, { ...where, group: rewind.group, offsets: rewind.previousOffsets, waitForInactiveGroupSeconds: 300 }))
  : [];

export const rewound = rewinds.map((r) => ({ group: r.group, resetAt: r.resetAt, outcome: r.outcome, previousOffsets: r.previousOffsets }));
export const undone = undos.map((u) => ({ group: u.group, appliedOffsets: u.appliedOffsets }));
