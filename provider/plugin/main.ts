#!/usr/bin/env node
// pulumi-resource-dms-offset-reset: the OffsetReset provider as a Pulumi resource-provider plugin, for YAML,
// Python, Go and any other language (TypeScript programs import the dynamic resource instead; both run the
// same lifecycle). The engine starts it as `pulumi-resource-dms-offset-reset [--logtostderr] [-v=N]
// [--tracing ENDPOINT] ENGINE_ADDRESS` and reads the port it serves on from the first line of its stdout.
import { engineAddressOf } from "../resource/engine-log";
import { serve } from "./server";

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
