#!/usr/bin/env node
// The API report of every public entry point: API Extractor reads the built declarations of each entry in a
// package's `exports` and writes what it exports to packages/<pkg>/api/<entry>.api.md. Checked in, so a change to
// the public surface is always a visible diff.
//
//   node scripts/api-report.mjs            builds the packages, fails when a report differs from the checked-in one
//   node scripts/api-report.mjs --update   builds the packages and rewrites the reports (`npm run api:update`)
//   --no-build                             uses the dist folders as they are (the test command builds them first)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = join(root, 'packages');
const update = process.argv.includes('--update');
const build = !process.argv.includes('--no-build');

/** Every entry point a published package exports, as [report name, declaration file]. */
function entries(manifest) {
  return Object.entries(manifest.exports ?? {})
    .filter(([subpath, target]) => subpath !== './package.json' && typeof target === 'object')
    .map(([subpath, target]) => [
      subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-'),
      target.types,
    ]);
}

// Core first, then http: the other packages' declarations are built against theirs (express against both).
const order = (name) => (name === 'core' ? 0 : name === 'http' ? 1 : 2);
let ok = true;
const changed = [];
for (const name of readdirSync(packagesDir).sort((a, b) => order(a) - order(b) || a.localeCompare(b))) {
  const dir = join(packagesDir, name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (manifest.private || entries(manifest).length === 0) continue;
  if (build && spawnSync('npx', ['tsup', '--silent'], { cwd: dir, stdio: 'inherit' }).status !== 0) {
    console.error(`Building ${manifest.name} failed.`);
    ok = false;
    continue;
  }
  const reportFolder = join(dir, 'api');
  mkdirSync(reportFolder, { recursive: true });
  for (const [report, types] of entries(manifest)) {
    const entry = join(dir, types);
    if (!existsSync(entry)) {
      console.error(`${manifest.name}: ${types} is missing; build the package first.`);
      ok = false;
      continue;
    }
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: dir,
        mainEntryPointFilePath: entry,
        // A workspace package a package depends on (not a peer) is part of its API: express re-exports http's.
        bundledPackages: Object.keys(manifest.dependencies ?? {}).filter((name) =>
          name.startsWith('@plugboard/'),
        ),
        compiler: {
          overrideTsconfig: {
            compilerOptions: {
              target: 'ES2022',
              lib: ['ES2023'],
              module: 'NodeNext',
              moduleResolution: 'NodeNext',
              strict: true,
              skipLibCheck: true,
              types: ['node'],
            },
            include: [entry],
          },
        },
        apiReport: {
          enabled: true,
          reportFileName: `${report}.api.md`,
          reportFolder,
          reportTempFolder: join(dir, 'node_modules', '.api-report'),
          includeForgottenExports: false,
        },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          // The report is about what is exported; documentation is checked by typedoc.
          extractorMessageReporting: {
            default: { logLevel: 'none' },
            'ae-missing-release-tag': { logLevel: 'none' },
            'ae-forgotten-export': { logLevel: 'none' },
          },
          tsdocMessageReporting: { default: { logLevel: 'none' } },
          compilerMessageReporting: { default: { logLevel: 'warning' } },
        },
      },
      configObjectFullPath: join(dir, 'api-extractor.json'),
      packageJsonFullPath: join(dir, 'package.json'),
    });
    const result = Extractor.invoke(config, { localBuild: update, showVerboseMessages: false });
    if (result.apiReportChanged) changed.push(`packages/${name}/api/${report}.api.md`);
    if (!result.succeeded && !result.apiReportChanged) ok = false;
  }
}
if (changed.length > 0 && !update) {
  console.error(
    `\nThe public API changed: ${changed.join(', ')}. Run \`npm run api:update\` and commit the reports with the change.`,
  );
  ok = false;
} else if (changed.length > 0) {
  console.log(`\nUpdated: ${changed.join(', ')}`);
}
process.exit(ok ? 0 : 1);
