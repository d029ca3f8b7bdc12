// Property bags between the engine's protobuf Structs and the lifecycle's plain objects. The plugin tells the
// engine it does not accept secrets (Configure), so the engine sends plain values and copies "secretness" from
// inputs to same-named outputs itself; values not known yet (preview) arrive as Pulumi's unknown sentinel, the
// same one the lifecycle tests for. What is left here uses @pulumi/pulumi's rpc encoding: unwrapping the
// secrets of Configure (always sent wrapped) and wrapping the values that must be stored encrypted.
import { isRpcSecret, specialSecretSig, specialSigKey, unwrapRpcSecret } from "@pulumi/pulumi/runtime/rpc";
import { Struct } from "../resource/pulumi-grpc";

export type Props = Record<string, unknown>;

/** A Struct's fields as a plain object ({} for an absent Struct). */
export function fromStruct(struct: Struct | undefined): Props {
  return (struct?.toJavaScript() ?? {}) as Props;
}

/** A plain object as a Struct. Keys whose value is undefined are left out (a Struct cannot hold undefined). */
export function toStruct(props: object): Struct {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(props)) as Parameters<typeof Struct.fromJavaScript>[0]);
}

/** `value` as a secret in Pulumi's property encoding: the engine stores it encrypted. */
export function asSecret(value: unknown): unknown {
  return isRpcSecret(value) ? value : { [specialSigKey]: specialSecretSig, value };
}

/** A property bag with each top-level secret unwrapped. */
export function unwrapSecrets(props: Props): Props {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, unwrapRpcSecret(v)]));
}
