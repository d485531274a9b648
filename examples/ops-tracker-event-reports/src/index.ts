/**
 * Event reports for the ops tracker. The tracker finds this package through the `plugboard` field of its
 * package.json and loads the plugin classes exported here.
 *
 * @module plugboard-example-ops-tracker-event-reports
 */
export { csvField, EventCsvExport } from './csv.ts';
export { EventTimeline } from './timeline.ts';
