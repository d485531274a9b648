import { type Dirent, type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { isModuleFile } from './discovery.js';

/** Options of `host.plugins.watch()` and of the host's `watch` option. */
export interface WatchOptions {
  /**
   * How long the watcher waits after the last change of a burst before it reloads, in milliseconds: an editor
   * saving a file often writes it several times in a row.
   * @default 100
   */
  readonly debounceMs?: number;
}

/** What the watcher reports once a burst of changes has settled. */
export interface FolderChanges {
  /** The plugin folder, as an absolute path. */
  readonly root: string;
  /** The names of the files and sub-folders at the top of `root` that changed. */
  readonly names: ReadonlySet<string>;
}

/**
 * Watches plugin folders and their sub-folders with `fs.watch` and reports which top-level entries changed, once
 * the changes have been quiet for `debounceMs`. Hidden files and `node_modules` are ignored, and so is anything
 * inside a sub-folder that is not a module or a `package.json`. It never keeps the process alive.
 *
 * Each folder gets a watcher of its own rather than one `recursive: true` watcher: on Linux, Node 20 emulates
 * recursion with a watcher per file, which misses a file replaced by a rename (how many editors save) and every
 * later write to it.
 */
export class PluginFolderWatcher {
  /** One watcher per watched folder, by folder path; `roots` are the plugin folders themselves. */
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #roots = new Set<string>();
  readonly #pending = new Map<string, Set<string>>();
  readonly #debounceMs: number;
  readonly #onChanges: (changes: readonly FolderChanges[]) => void;
  readonly #onError: (error: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: {
    readonly debounceMs: number;
    readonly onChanges: (changes: readonly FolderChanges[]) => void;
    readonly onError: (error: unknown) => void;
  }) {
    this.#debounceMs = options.debounceMs;
    this.#onChanges = options.onChanges;
    this.#onError = options.onError;
  }

  /** The plugin folders watched now. */
  get folders(): readonly string[] {
    return [...this.#roots].filter((root) => this.#watchers.has(root));
  }

  /** Starts watching `root` and its sub-folders; throws what `fs.watch` throws (a folder that does not exist...). */
  add(root: string): void {
    if (this.#roots.has(root)) return;
    this.#watchFolder(root, root);
    this.#roots.add(root);
  }

  /** Stops watching every folder and drops the changes not yet reported. */
  close(): void {
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    this.#roots.clear();
    this.#pending.clear();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #watchFolder(root: string, folder: string): void {
    if (this.#watchers.has(folder)) return;
    const watcher = watch(folder, { persistent: false }, (_type, filename) =>
      this.#changed(root, folder, filename === null ? null : String(filename)),
    );
    watcher.on('error', (error) => {
      // The folder was removed or became unreadable: its watcher is done.
      this.#unwatchFolder(folder);
      if (folder === root) this.#onError(error);
    });
    this.#watchers.set(folder, watcher);
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !ignored(entry.name)) {
        try {
          this.#watchFolder(root, join(folder, entry.name));
        } catch {
          // Removed meanwhile: the change that removed it is reported by its parent's watcher.
        }
      }
    }
  }

  #unwatchFolder(folder: string): void {
    for (const [path, watcher] of this.#watchers) {
      if (path === folder || path.startsWith(`${folder}${sep}`)) {
        watcher.close();
        this.#watchers.delete(path);
      }
    }
  }

  #changed(root: string, folder: string, filename: string | null): void {
    if (!this.#watchers.has(folder)) return;
    const names = this.#pending.get(root) ?? new Set<string>();
    // Without a file name the change is unknown: the folder is compared with what is loaded all the same.
    if (filename !== null) {
      const path = join(folder, filename);
      const segments = relative(root, path)
        .split(sep)
        .filter((s) => s.length > 0);
      const top = segments[0];
      if (top === undefined || segments.some(ignored)) return;
      let isFolder = false;
      try {
        isFolder = statSync(path).isDirectory();
      } catch {
        // Gone: a deleted folder takes its watchers with it.
        if (this.#watchers.has(path)) this.#unwatchFolder(path);
      }
      if (isFolder) {
        try {
          this.#watchFolder(root, path);
        } catch {
          // Removed again at once.
        }
      } else if (segments.length > 1 && !isModuleFile(filename) && basename(filename) !== 'package.json') {
        return;
      }
      names.add(top);
    }
    this.#pending.set(root, names);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#flush(), this.#debounceMs);
    this.#timer.unref?.();
  }

  #flush(): void {
    this.#timer = undefined;
    const changes = [...this.#pending].map(([root, names]) => ({ root, names }));
    this.#pending.clear();
    if (changes.length > 0) this.#onChanges(changes);
  }
}

/** Hidden files and folders and installed dependencies are never plugin sources. */
function ignored(name: string): boolean {
  return name.startsWith('.') || name === 'node_modules';
}
