// The gRPC runtime and protobuf classes of the @pulumi/pulumi this package depends on: the same instances its
// generated stubs (@pulumi/pulumi/proto) use, so that messages built here are the ones they serialize. They are
// that package's dependencies, not this one's, hence resolved from its directory.
import { createRequire } from "node:module";

const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));

export const grpc = fromPulumi("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
export const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb") as typeof import("google-protobuf/google/protobuf/struct_pb");
export const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb") as typeof import("google-protobuf/google/protobuf/empty_pb");
export const { Any } = fromPulumi("google-protobuf/google/protobuf/any_pb") as typeof import("google-protobuf/google/protobuf/any_pb");
export type Struct = import("google-protobuf/google/protobuf/struct_pb").Struct;

/** As Pulumi's own servers: messages up to 400 MiB (a large state's property bags). */
export const CHANNEL_OPTIONS = { "grpc.max_receive_message_length": 400 * 1024 * 1024 };
