// TypeDoc: the TypeScript API reference, built by npm run docs into docs/api beside the Redoc pages.
// notDocumented + treatValidationWarningsAsErrors (in scripts/docs.mjs) make an undocumented public symbol fail the build.
import { OptionDefaults } from 'typedoc';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  "name": "recordkeeper-client",
  "entryPoints": [
    "src/index.ts",
    "src/testing/index.ts",
    "src/wire/index.ts",
    "src/conformance/index.ts"
  ],
  "tsconfig": "tsconfig.build.json",
  "out": "docs/api",
  // The landing page: an introduction to the facades, Results, options and subpaths.
  "readme": "guides/typescript-api.md",
  "excludePrivate": true,
  "excludeInternal": true,
  "excludeExternals": true,
  "validation": {
    "notExported": false,
    "invalidLink": true,
    "notDocumented": true
  },
  "requiredToBeDocumented": [
    "Class",
    "Function",
    "Interface",
    "TypeAlias",
    "Enum",
    "Variable",
    "Method",
    "Accessor"
  ],
  "githubPages": false,
  "disableSources": true,
  "logLevel": "Warn",
  // The generated spec types carry openapi-typescript's @description and @constant tags.
  blockTags: [...OptionDefaults.blockTags, '@description', '@constant'],
};
