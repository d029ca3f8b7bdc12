// The examples are what users copy: they must compile against the SDK as published (strict mode), with
// the package name mapped to the SDK's sources in this repository.
import * as path from "node:path";
import ts from "typescript";

const root = path.resolve(__dirname, "../..");

test.each(["quickstart", "dr-runbook", "all-topics"])("examples/%s type-checks against the SDK", (example) => {
  const dir = path.join(root, "examples", example);
  const configFile = ts.readConfigFile(path.join(dir, "tsconfig.json"), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, dir);
  const program = ts.createProgram(parsed.fileNames, {
    ...parsed.options,
    baseUrl: root,
    paths: { "pulumi-dms-offset-reset": ["sdk/index.ts"] },
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n",
  }));
  expect(diagnostics).toEqual([]);
  expect(parsed.fileNames.map((f) => path.basename(f))).toEqual(["index.ts"]);
});
