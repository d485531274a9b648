/**
 * Credential reports for the ops tracker. The tracker finds this package through the `plugboard` field of its
 * package.json and loads the plugin classes exported here.
 *
 * @module plugboard-example-ops-tracker-credential-reports
 */
export { CredentialExpiry, daysUntil } from './expiry.ts';
export { PasswordReuse } from './password-reuse.ts';
