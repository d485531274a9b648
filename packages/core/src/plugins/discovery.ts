import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeThrown, PlugboardError } from '../errors.js';
import { isPluginClass, type PluginClass } from '../plugin.js';

/** Where the host looks for plugins. */
export interface PluginDiscoveryOptions {
  /** Folders whose modules are plugins, with no naming convention for files or classes. */
  readonly dirs?: readonly string[];
  /**
   * Installed packages: `true` scans the host package's dependencies for packages that declare a `plugboard`
   * field in their package.json; a list names the packages to load.
   * @default false
   */
  readonly packages?: boolean | readonly string[];
  /** Plugin classes passed directly. */
  readonly classes?: readonly PluginClass[];
  /**
   * Follow symbolic links that point outside a plugin folder.
   * @default false
   */
  readonly followSymlinks?: boolean;
  /**
   * How long one module may take to load (a top-level await that never settles is cut off here).
   * @default 10000
   */
  readonly loadTimeoutMs?: number;
}

/** Where a plugin came from. */
export interface PluginSource {
  /** A module file in a plugins folder, an installed package, or a class passed in `plugins.classes`. */
  readonly type: 'file' | 'package' | 'class';
  /** A file path, a package name or the class name. */
  readonly location: string;
}

/** One loaded module (or explicit class) and the plugin classes it exports, or why it failed. */
export interface LoadedSource {
  readonly source: PluginSource;
  readonly classes: readonly PluginClass[];
  readonly error?: PlugboardError;
  readonly loadMs: number;
  /** The module file the classes were loaded from (absent for classes passed directly). */
  readonly file?: string;
  /** For a module found in a plugin folder: the folder (absolute) and the entry of it the module stands for. */
  readonly folder?: PluginFolderEntry;
}

/** A module a plugin folder holds: a file at its top level, or the entry module of a sub-folder. */
export interface PluginFolderEntry {
  /** The plugin folder, as an absolute path. */
  readonly root: string;
  /** The name of the file or sub-folder at the top of `root`. */
  readonly name: string;
  /** The module file that is loaded for it. */
  readonly file: string;
}

/** Something discovery skipped on purpose, kept in the boot report. */
export interface DiscoveryNote {
  /** The file, folder or package it concerns. */
  readonly location: string;
  /** What was skipped and why. */
  readonly message: string;
}

const MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

/** Whether a file name is a JavaScript or TypeScript module (declaration files are not). */
export function isModuleFile(name: string): boolean {
  return MODULE_EXTENSIONS.has(extname(name)) && !/\.d\.[cm]?ts$/.test(name);
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

let jitiInstance: { import(id: string): Promise<unknown> } | undefined;
/** Counts fresh imports, so each one gets a URL the ES module loader has not seen. */
let freshImports = 0;

/**
 * Forgets the CommonJS and jiti-compiled modules loaded from `folder` (outside its node_modules), so the next
 * import evaluates them again: the plugin's own file and the relative imports jiti or `require` loaded for it.
 */
function forgetModulesUnder(folder: string): void {
  const cache = createRequire(import.meta.url).cache;
  for (const key of Object.keys(cache)) {
    if (isInside(key, folder) && !key.split(sep).includes('node_modules')) delete cache[key];
  }
}

/** Imports a plugin module (TypeScript through jiti), evaluating it anew when `fresh` names its folder. */
export async function importModule(
  file: string,
  fresh: { readonly folder: string } | undefined,
): Promise<unknown> {
  if (fresh) {
    forgetModulesUnder(fresh.folder);
    const real = await realpath(fresh.folder).catch(() => fresh.folder);
    if (real !== fresh.folder) forgetModulesUnder(real);
  }
  if (TS_EXTENSIONS.has(extname(file))) {
    if (!jitiInstance) {
      let createJiti: (url: string, options?: object) => { import(id: string): Promise<unknown> };
      try {
        ({ createJiti } = (await import('jiti')) as unknown as { createJiti: typeof createJiti });
      } catch (error) {
        throw new PlugboardError(
          'PLUGBOARD_TS_LOADER_MISSING',
          `\`${file}\` is TypeScript: install \`jiti\` in the host (npm install jiti) or compile the plugin to JavaScript.`,
          { cause: error },
        );
      }
      jitiInstance = createJiti(import.meta.url, { moduleCache: true, interopDefault: false });
    }
    return jitiInstance.import(file);
  }
  // An ES module stays in the loader's cache for the life of the process: a new URL is the only way to
  // evaluate the file again (the old module stays in memory).
  const href = pathToFileURL(file).href;
  return import(fresh ? `${href}?reload=${++freshImports}` : href);
}

/** Every plugin class a module exports, by name or as its default (including CommonJS `module.exports`). */
export function pluginClassesOf(namespace: unknown): PluginClass[] {
  const found = new Set<PluginClass>();
  const visit = (value: unknown, depth: number) => {
    if (isPluginClass(value)) found.add(value);
    else if (depth < 1 && value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], depth + 1);
    }
  };
  if (namespace !== null && typeof namespace === 'object') {
    for (const key of Object.keys(namespace)) {
      const value = (namespace as Record<string, unknown>)[key];
      visit(value, key === 'default' || key === 'module.exports' ? 0 : 1);
    }
  }
  return [...found];
}

async function loadFile(
  source: PluginSource,
  file: string,
  timeoutMs: number,
  fresh?: { readonly folder: string },
  advice = 'Fix the module; the other plugins started.',
): Promise<LoadedSource> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const namespace = await Promise.race([
      importModule(file, fresh),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new PlugboardError(
                'PLUGBOARD_PLUGIN_LOAD_TIMEOUT',
                `\`${file}\` did not finish loading within ${timeoutMs} ms (a top-level await that never settles?).`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
    return { source, classes: pluginClassesOf(namespace), loadMs: performance.now() - started, file };
  } catch (error) {
    const coded =
      error instanceof PlugboardError
        ? error
        : new PlugboardError(
            'PLUGBOARD_PLUGIN_LOAD_FAILED',
            `\`${file}\` could not be loaded: ${describeThrown(error)}. ${advice}`,
            { cause: error },
          );
    return { source, classes: [], error: coded, loadMs: performance.now() - started };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function packageEntry(dir: string): Promise<string | undefined> {
  const pkgPath = join(dir, 'package.json');
  if (existsSync(pkgPath)) {
    try {
      const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as {
        main?: string;
        exports?: unknown;
        plugboard?: { plugins?: string | string[] };
      };
      const declared = pkg.plugboard?.plugins;
      const first = Array.isArray(declared) ? declared[0] : declared;
      const exported =
        typeof pkg.exports === 'string'
          ? pkg.exports
          : typeof (pkg.exports as Record<string, unknown> | undefined)?.['.'] === 'string'
            ? ((pkg.exports as Record<string, string>)['.'] as string)
            : undefined;
      const entry = first ?? exported ?? pkg.main;
      if (entry) return join(dir, entry);
    } catch {
      return undefined;
    }
  }
  for (const name of ['index.js', 'index.mjs', 'index.cjs', 'index.ts', 'index.mts']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * The modules a plugin folder holds (its top-level module files and the entry modules of its sub-folders),
 * noting what it skips and why.
 */
export async function scanPluginFolder(
  dir: string,
  options: { cwd: string; followSymlinks: boolean },
  notes: DiscoveryNote[],
): Promise<PluginFolderEntry[]> {
  const root = resolve(options.cwd, dir);
  let rootReal: string;
  try {
    rootReal = await realpath(root);
    if (!(await stat(rootReal)).isDirectory()) throw new Error('not a folder');
  } catch (error) {
    notes.push({
      location: root,
      message: `plugin folder not found or unreadable: ${describeThrown(error)}`,
    });
    return [];
  }
  const entries = (await readdir(root)).sort();
  const files: PluginFolderEntry[] = [];
  const seen = new Set<string>();
  // A link to a module the folder already holds would load it twice and report its plugins as duplicates.
  const add = (name: string, file: string, real: string) => {
    if (seen.has(real)) return;
    seen.add(real);
    files.push({ root, name, file });
  };
  for (const name of entries) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const full = join(root, name);
    let info = await lstat(full);
    let target = full;
    if (info.isSymbolicLink()) {
      try {
        target = await realpath(full);
      } catch {
        notes.push({ location: full, message: 'ignored: a symbolic link whose target does not exist' });
        continue;
      }
      if (!isInside(target, rootReal) && !options.followSymlinks) {
        notes.push({
          location: full,
          message: `ignored: a symbolic link to \`${target}\`, outside the plugin folder (set plugins.followSymlinks to allow)`,
        });
        continue;
      }
      info = await stat(target);
    }
    if (info.isDirectory()) {
      const entry = await packageEntry(target);
      if (!entry) {
        notes.push({
          location: full,
          message: 'ignored: a folder with no package.json entry and no index module',
        });
        continue;
      }
      let entryReal: string;
      try {
        entryReal = await realpath(entry);
      } catch {
        notes.push({ location: full, message: `ignored: its entry \`${entry}\` does not exist` });
        continue;
      }
      // A package.json entry such as "../../elsewhere.js" must not reach outside the folder either.
      if (!options.followSymlinks && !isInside(entryReal, rootReal)) {
        notes.push({
          location: full,
          message: `ignored: its entry \`${entryReal}\` is outside the plugin folder (set plugins.followSymlinks to allow)`,
        });
        continue;
      }
      add(name, entry, entryReal);
    } else if (info.isFile()) {
      if (isModuleFile(name)) add(name, target, target === full ? join(rootReal, name) : target);
      else notes.push({ location: full, message: 'ignored: not a JavaScript or TypeScript module' });
    }
  }
  return files;
}

async function findInstalledPackage(name: string, cwd: string): Promise<string | undefined> {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function packageSources(
  packages: true | readonly string[],
  cwd: string,
  notes: DiscoveryNote[],
): Promise<Array<{ name: string; files: string[] }>> {
  let names: string[];
  const explicit = packages !== true;
  if (packages === true) {
    try {
      const pkg = JSON.parse(await readFile(join(cwd, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
        optionalDependencies?: Record<string, string>;
      };
      names = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).sort();
    } catch (error) {
      notes.push({
        location: join(cwd, 'package.json'),
        message: `cannot scan dependencies: ${describeThrown(error)}`,
      });
      return [];
    }
  } else names = [...packages];
  const found: Array<{ name: string; files: string[] }> = [];
  for (const name of names) {
    const dir = await findInstalledPackage(name, cwd);
    if (!dir) {
      if (explicit) notes.push({ location: name, message: 'plugin package is not installed' });
      continue;
    }
    let manifest: { plugboard?: { plugins?: string | string[] } };
    try {
      manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const declared = manifest.plugboard?.plugins;
    if (declared === undefined && !explicit) continue;
    const files =
      declared === undefined ? [await packageEntry(dir)] : [declared].flat().map((p) => join(dir, p));
    found.push({ name, files: files.filter((f): f is string => typeof f === 'string') });
  }
  return found;
}

/**
 * Loads a module of a plugin folder again, evaluating it anew: the CommonJS and jiti-compiled modules cached from
 * the folder are forgotten first, and an ES module is imported under a new URL.
 */
export function reloadFolderEntry(entry: PluginFolderEntry, timeoutMs: number): Promise<LoadedSource> {
  return loadFile(
    { type: 'file', location: entry.file },
    entry.file,
    timeoutMs,
    { folder: entry.root },
    'Fix the module and reload it.',
  ).then((loaded) => ({ ...loaded, folder: entry }));
}

/** Finds and loads every plugin source: explicit classes, folders, then installed packages. */
export async function discoverPlugins(
  options: PluginDiscoveryOptions,
  cwd: string,
): Promise<{ sources: LoadedSource[]; notes: DiscoveryNote[] }> {
  const notes: DiscoveryNote[] = [];
  const sources: LoadedSource[] = [];
  const timeoutMs = options.loadTimeoutMs ?? 10_000;
  for (const cls of options.classes ?? []) {
    if (!isPluginClass(cls)) {
      const name = typeof cls === 'function' ? (cls as { name: string }).name : typeof cls;
      sources.push({
        source: { type: 'class', location: String(name) },
        classes: [],
        loadMs: 0,
        error: new PlugboardError(
          'PLUGBOARD_INVALID_PLUGIN',
          `\`${String(name)}\` in plugins.classes does not extend a Plugboard base class (ActionPlugin, ContextPlugin, BackgroundTaskPlugin, PointPlugin).`,
        ),
      });
      continue;
    }
    sources.push({ source: { type: 'class', location: cls.name }, classes: [cls], loadMs: 0 });
  }
  const entries: PluginFolderEntry[] = [];
  for (const dir of options.dirs ?? []) {
    entries.push(
      ...(await scanPluginFolder(dir, { cwd, followSymlinks: options.followSymlinks ?? false }, notes)),
    );
  }
  const loaded = await Promise.all(
    entries.map(async (entry) => ({
      ...(await loadFile({ type: 'file', location: entry.file }, entry.file, timeoutMs)),
      folder: entry,
    })),
  );
  for (const source of loaded) {
    if (!source.error && source.classes.length === 0) {
      notes.push({ location: source.source.location, message: 'loaded, but it exports no plugin class' });
    }
  }
  sources.push(...loaded);
  if (options.packages) {
    for (const pkg of await packageSources(options.packages, cwd, notes)) {
      for (const file of pkg.files) {
        sources.push(await loadFile({ type: 'package', location: pkg.name }, file, timeoutMs));
      }
    }
  }
  return { sources, notes };
}
