// Rewind every topic and every partition of a consumer group by offset: no `topic`, partition -1.
// DMS runs an all-topics reset as an asynchronous task; the resource waits for the task its own request
// started and records its id.
import * as pulumi from "@pulumi/pulumi";
import { OffsetReset } from "pulumi-dms-offset-reset";

const config = new pulumi.Config();
const region = config.get("region");
const endpoint = region ? undefined : config.get("endpoint") ?? `http://127.0.0.1:${process.env.DMS_LOCAL_PORT ?? "18080"}`;

const rewind = new OffsetReset("g-idle-all-topics", {
  ...(region ? { region } : { endpoint }),
  projectId: config.get("projectId") ?? "0e1c5f7a9b3d4e6f8a2c4b6d8e0f1a3c",
  instanceId: config.get("instanceId") ?? "8f2d6c1e-3b5a-4e79-9c0d-2a4b6e8f1c3d",
  group: config.get("group") ?? "g-idle",
  partition: -1,
  // Offsets past a partition's retained range are clamped by DMS to its log start or end.
  messageOffset: config.get("messageOffset") ?? "0",
});

export const taskId = rewind.taskId;
export const appliedOffsets = rewind.appliedOffsets;
