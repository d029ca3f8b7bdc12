// The Python and Go SDKs under sdk/ are generated from the committed schema by tools/sdkgen and committed:
// this regenerates them into a temporary directory and fails, naming the files, when they differ. sdkgen is
// $DMS_SDKGEN (tests/run.sh builds it), else built here by tools/sdkgen/build.sh: never skipped.
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { drift, filesUnder, generate, sdkgenPath, SDK_DIRS } from "../../tools/schema/sdks";

jest.setTimeout(600_000);

test("the committed SDKs are what provider/plugin/schema.json generates (else: node tools/schema/sdks.js)", () => {
  const sdkgen = sdkgenPath();
  const out = mkdtempSync(path.join(os.tmpdir(), "dms-sdk-drift-"));
  try {
    generate(out, sdkgen);
    expect(filesUnder(path.join(out, "python"))).toContain("pulumi_dms_offset_reset/offset_reset.py");
    expect(filesUnder(path.join(out, "go"))).toContain("dmsoffsetreset/offsetReset.go");
    expect(drift(out)).toEqual([]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  expect(filesUnder(SDK_DIRS.go)).toContain("dmsoffsetreset/go.sum");
});
