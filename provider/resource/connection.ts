// Where and as whom the resource talks to DMS: the endpoint and the credentials, each taken from the
// resource's inputs first, then from the environment (the same variables as the CLI), then from stack
// configuration, which Pulumi hands dynamic providers through ResourceProvider.configure.
import type { Credentials } from "../dms/signing/signer";
import { credentialsFromEnv, regionFromEnv } from "../dms/credentials";
import { ConfigurationError } from "../dms/errors";

/**
 * Stack configuration keys, in the package's own namespace so they do not depend on the project's name
 * (the host resolves unqualified keys against PULUMI_NODEJS_PROJECT): `pulumi config set --secret
 * dms-offset-reset:secretKey …`.
 */
export const CONFIG_KEYS = {
  accessKey: "dms-offset-reset:accessKey",
  secretKey: "dms-offset-reset:secretKey",
  securityToken: "dms-offset-reset:securityToken",
  endpoint: "dms-offset-reset:endpoint",
  region: "dms-offset-reset:region",
} as const;

/** What the stack configuration says, read once when the host configures the provider. */
export type StackSettings = Partial<Record<keyof typeof CONFIG_KEYS, string>>;

/** The part of `pulumi.dynamic.Config` this provider uses. */
export interface ConfigSource {
  get(key: string): string | undefined;
}

export function settingsFromConfig(config: ConfigSource): StackSettings {
  const settings: StackSettings = {};
  for (const [name, key] of Object.entries(CONFIG_KEYS) as [keyof typeof CONFIG_KEYS, string][]) {
    let value: unknown;
    try {
      value = config.get(key);
    } catch {
      // The host's Config throws when the engine never sent a Configure; inputs and environment still work.
      value = undefined;
    }
    if (typeof value === "string" && value !== "") settings[name] = value;
  }
  return settings;
}

/** Credential inputs as the resource received them. */
export interface CredentialInputs {
  accessKey?: string;
  secretKey?: string;
  securityToken?: string;
}

/**
 * Inputs first, then CLOUD_SDK_AK/SK or HW_ACCESS_KEY/HW_SECRET_KEY, then stack configuration. Throws a
 * ConfigurationError naming every source (never a value) when none has a complete pair.
 */
export function resolveCredentials(inputs: CredentialInputs, env: NodeJS.ProcessEnv, stack: StackSettings): Credentials {
  if (inputs.accessKey !== undefined && inputs.secretKey !== undefined) {
    return withToken({ accessKey: inputs.accessKey, secretKey: inputs.secretKey }, inputs.securityToken);
  }
  try {
    return credentialsFromEnv(env);
  } catch (e) {
    if (!(e instanceof ConfigurationError)) throw e;
    if (stack.accessKey !== undefined && stack.secretKey !== undefined) {
      return withToken({ accessKey: stack.accessKey, secretKey: stack.secretKey }, stack.securityToken);
    }
    throw new ConfigurationError(
      `${e.message}; or set the accessKey and secretKey inputs, or stack configuration ` +
        `\`pulumi config set --secret ${CONFIG_KEYS.accessKey}\` and \`${CONFIG_KEYS.secretKey}\``,
    );
  }
}

function withToken(credentials: Credentials, securityToken: string | undefined): Credentials {
  return securityToken === undefined ? credentials : { ...credentials, securityToken };
}

/** An explicit endpoint URL, or a region the client maps to its endpoint. */
export interface EndpointInputs {
  endpoint?: string;
  region?: string;
}

/** The inputs' endpoint or region, else the stack configuration's, else HW_REGION_NAME (as the CLI). */
export function endpointSettings(inputs: EndpointInputs, env: NodeJS.ProcessEnv, stack: StackSettings): EndpointInputs | undefined {
  if (inputs.endpoint !== undefined || inputs.region !== undefined) return pick(inputs);
  if (stack.endpoint !== undefined || stack.region !== undefined) return pick(stack);
  const region = regionFromEnv(env);
  return region !== undefined ? { region } : undefined;
}

function pick(s: EndpointInputs): EndpointInputs {
  return s.endpoint !== undefined ? { endpoint: s.endpoint } : { region: s.region as string };
}

