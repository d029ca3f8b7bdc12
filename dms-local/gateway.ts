// What Huawei's API gateway does to a path before anything behind it sees the request: it
// canonicalises the path, so a segment that decodes to something holding `/` (a `%2F` in a group
// name), or a dot segment (`.` / `..`, raw or percent-encoded), no longer names what the client
// signed. Behind a gateway that runs Huawei's own signer code such a request fails the signature
// check: 401 APIG.0301. dms-local answers that before routing, whoever signed it.
import { badAuthentication, type DmsError } from "./errors";

/** The gateway's refusal for these decoded path segments, or undefined when the path is canonical. */
export function pathRefusal(decodedSegments: readonly string[]): DmsError | undefined {
  if (decodedSegments.some((s) => s.includes("/"))) {
    return badAuthentication("a path segment holds an encoded '/' (%2F): the gateway splits it, so the signed path is not the one routed");
  }
  if (decodedSegments.some((s) => s === "." || s === "..")) {
    return badAuthentication("the path has a '.' or '..' segment: the gateway resolves it, so the signed path is not the one routed");
  }
  return undefined;
}
