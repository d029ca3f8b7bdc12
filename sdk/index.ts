// What users import: `import { OffsetReset } from "pulumi-dms-offset-reset"`.
export { OffsetReset, type OffsetResetArgs, type PartitionOffsetState } from "./offsetReset";
