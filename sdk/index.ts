// What users import: `import { OffsetReset } from "pulumi-dms-offset-reset"`.
export { OffsetReset, type OffsetResetArgs, type Outcome, type PartitionOffsetState, type PlanRow, type PlanState } from "./offsetReset";
