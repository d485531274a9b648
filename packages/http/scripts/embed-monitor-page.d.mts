/** The source of src/monitor-assets.ts for the files in src/ui/ as they are now. */
export declare function monitorAssetsModule(): string;
/** Where the module is written. */
export declare const MONITOR_ASSETS_PATH: string;
