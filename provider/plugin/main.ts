#!/usr/bin/env node
// pulumi-resource-dms-offset-reset: the OffsetReset provider as a Pulumi resource-provider plugin, for YAML,
// Python, Go and any other language (TypeScript programs import the dynamic resource instead; both run the
// same lifecycle). The engine starts it as `pulumi-resource-dms-offset-reset [--logtostderr] [-v=N]
// [--tracing ENDPOINT] ENGINE_ADDRESS` and reads the port it serves on from the first line of its stdout.
import { serve } from "./server";

/** The engine's address: the first argument that is not one of the engine's logging or tracing flags. */
export function engineAddressOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--tracing") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

async function main(): Promise<void> {
  const address = engineAddressOf(process.argv.slice(2));
  if (address === undefined) {
    process.stderr.write("usage: pulumi-resource-dms-offset-reset ENGINE_ADDRESS (the Pulumi engine starts this plugin)\n");
    process.exit(2);
  }
  const { port } = await serve(address);
  // The engine reads the port from stdout; anything else printed there would be shown as the plugin's output.
  process.stdout.write(`${port}\n`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`pulumi-resource-dms-offset-reset: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
