// @noble/hashes 2 ships ES modules only. Node 20.19+ can require() them, but jest's module
// runtime cannot, so jest compiles those files to CommonJS like our own sources.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.[tj]s$": ["ts-jest", { tsconfig: "tsconfig.test.json" }],
  },
  transformIgnorePatterns: ["/node_modules/(?!@noble/hashes/)"],
  testTimeout: 30000,
};
