// Credentials and defaults from the environment, under the names Huawei's own tools use: the SDK samples'
// CLOUD_SDK_* and the Terraform provider's HW_*. Errors name variables, never their values.
import { ConfigurationError } from "./errors";
import type { Credentials } from "./signing/signer";

export type { Credentials } from "./signing/signer";

type Env = Readonly<Record<string, string | undefined>>;

const PAIRS = [
  { accessKey: "CLOUD_SDK_AK", secretKey: "CLOUD_SDK_SK", securityToken: "CLOUD_SDK_SECURITY_TOKEN" },
  { accessKey: "HW_ACCESS_KEY", secretKey: "HW_SECRET_KEY", securityToken: "HW_SECURITY_TOKEN" },
] as const;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** The first complete access-key pair (CLOUD_SDK_AK/SK, then HW_ACCESS_KEY/HW_SECRET_KEY), with its token if set. */
export function credentialsFromEnv(env: Env = process.env): Credentials {
  for (const names of PAIRS) {
    const accessKey = value(env, names.accessKey);
    const secretKey = value(env, names.secretKey);
    if (accessKey && secretKey) {
      // A token belongs to temporary credentials; take it from either family, own family first.
      const securityToken = value(env, names.securityToken) ?? PAIRS.map((p) => value(env, p.securityToken)).find(Boolean);
      return securityToken ? { accessKey, secretKey, securityToken } : { accessKey, secretKey };
    }
  }
  const half = PAIRS.flatMap((p) => [p.accessKey, p.secretKey]).filter((n) => value(env, n) !== undefined);
  throw new ConfigurationError(
    "no DMS credentials: set CLOUD_SDK_AK and CLOUD_SDK_SK (or HW_ACCESS_KEY and HW_SECRET_KEY), " +
      "plus CLOUD_SDK_SECURITY_TOKEN (or HW_SECURITY_TOKEN) for temporary credentials" +
      (half.length ? `; only ${half.join(", ")} ${half.length === 1 ? "is" : "are"} set` : ""),
  );
}

/** HW_REGION_NAME, as Huawei's Terraform provider reads it. */
export function regionFromEnv(env: Env = process.env): string | undefined {
  return value(env, "HW_REGION_NAME");
}

/** HW_PROJECT_ID, as Huawei's Terraform provider reads it. */
export function projectIdFromEnv(env: Env = process.env): string | undefined {
  return value(env, "HW_PROJECT_ID");
}
