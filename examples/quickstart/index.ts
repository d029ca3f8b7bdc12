// Quickstart: rewind one consumer group of one topic to a point in time.
// By default it targets dms-local and its default seed (`npm run demo` starts both); point it at Huawei
// Cloud with `pulumi config set region cn-north-4` (or `endpoint`), projectId, instanceId and group.
// Credentials come from the environment (CLOUD_SDK_AK / CLOUD_SDK_SK), never from this program.
import * as pulumi from "@pulumi/pulumi";
import { OffsetReset } from "pulumi-dms-offset-reset";

const config = new pulumi.Config();
const region = config.get("region");
// dms-local listens on loopback; the demo script exports its port.
const endpoint = region ? undefined : config.get("endpoint") ?? `http://127.0.0.1:${process.env.DMS_LOCAL_PORT ?? "18080"}`;

const rewind = new OffsetReset("billing-rewind", {
  ...(region ? { region } : { endpoint }),
  projectId: config.get("projectId") ?? "0e1c5f7a9b3d4e6f8a2c4b6d8e0f1a3c",
  instanceId: config.get("instanceId") ?? "8f2d6c1e-3b5a-4e79-9c0d-2a4b6e8f1c3d",
  group: config.get("group") ?? "billing",
  topic: config.get("topic") ?? "payments",
  partition: -1,
  timestamp: config.get("timestamp") ?? "2023-11-15T06:00:00Z",
  waitForInactiveGroupSeconds: 120,
});

export const resetAt = rewind.resetAt;
export const previousOffsets = rewind.previousOffsets;
export const appliedOffsets = rewind.appliedOffsets;
