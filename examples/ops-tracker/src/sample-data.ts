import type { EventType } from 'plugboard-example-ops-tracker-points';

/** A sample event, placed relative to the day the sample leads up to. */
export interface SampleEvent {
  /** Days before the sample's last day. */
  readonly daysBefore: number;
  /** `HH:MM`, UTC. */
  readonly time: string;
  readonly type: EventType;
  readonly source: string;
  readonly operator: string;
  readonly summary: string;
}

/** A sample credential; its secret is fingerprinted when it is recorded and never stored. */
export interface SampleCredential {
  readonly system: string;
  readonly account: string;
  readonly owner: string;
  readonly secret: string;
  /** Days after the sample's last day that it expires (negative: already expired), or `null`. */
  readonly expiresInDays: number | null;
}

/**
 * Four days of operations, listed out of time order as people tend to enter them. Some summaries hold what
 * reports must escape: commas, quotes, line breaks, Markdown characters and spreadsheet formulas.
 */
export const SAMPLE_EVENTS: readonly SampleEvent[] = [
  {
    daysBefore: 0,
    time: '06:40',
    type: 'incident',
    source: 'api-gateway',
    operator: 'carol',
    summary: 'Upstream timeouts; scaled to 6 pods',
  },
  {
    daysBefore: 3,
    time: '08:30',
    type: 'deploy',
    source: 'api-gateway',
    operator: 'alice',
    summary: 'Deployed api-gateway 2.14.0',
  },
  {
    daysBefore: 3,
    time: '11:20',
    type: 'incident',
    source: 'billing-db',
    operator: 'bob',
    summary: 'Rolled back "payments", then restarted\nthe worker, queue drained',
  },
  {
    daysBefore: 3,
    time: '11:02',
    type: 'alert',
    source: 'billing-db',
    operator: 'monitoring',
    summary: 'Replication lag above 30 s',
  },
  {
    daysBefore: 2,
    time: '09:00',
    type: 'change',
    source: 'vpn',
    operator: 'carol',
    summary: 'Rotated the VPN server certificate',
  },
  {
    daysBefore: 2,
    time: '16:45',
    type: 'access',
    source: 'bastion-1',
    operator: 'dave',
    summary: 'Emergency access for a contractor, revoked at 18:00',
  },
  {
    daysBefore: 2,
    time: '23:59',
    type: 'maintenance',
    source: 'storage-2',
    operator: 'ops-bot',
    summary: 'Disk scrub completed',
  },
  {
    daysBefore: 1,
    time: '13:30',
    type: 'deploy',
    source: 'web-frontend',
    operator: 'bob',
    summary: 'Deployed web-frontend 5.2.1 *hotfix* for [checkout] | cart',
  },
  {
    daysBefore: 1,
    time: '07:15',
    type: 'note',
    source: 'runbook',
    operator: 'alice',
    summary: '=SUM(A1:A3) pasted into the runbook by mistake; removed',
  },
  {
    daysBefore: 0,
    time: '06:05',
    type: 'alert',
    source: 'api-gateway',
    operator: 'monitoring',
    summary: '5xx rate above 2%',
  },
  {
    daysBefore: 0,
    time: '09:10',
    type: 'change',
    source: 'dns',
    operator: 'dave',
    summary: 'TTL lowered to 300 s before the migration',
  },
];

/** Credentials with two reused secrets and every expiry case: expired, today, soon, at the window's edge, later, never. */
export const SAMPLE_CREDENTIALS: readonly SampleCredential[] = [
  { system: 'vpn', account: 'alice', owner: 'network', secret: 'Winter2025!', expiresInDays: 12 },
  { system: 'billing-db', account: 'admin', owner: 'platform', secret: 'Winter2025!', expiresInDays: -3 },
  { system: 'bastion-1', account: 'root', owner: 'platform', secret: 'Winter2025!', expiresInDays: null },
  {
    system: 'grafana',
    account: 'admin',
    owner: 'observability',
    secret: 'correct horse battery staple',
    expiresInDays: 200,
  },
  {
    system: 'backup-s3',
    account: 'backup-writer',
    owner: 'storage',
    secret: 'S3cr3t-Backup-Key',
    expiresInDays: 30,
  },
  {
    system: 'ci-runner',
    account: 'deploy-bot',
    owner: 'platform',
    secret: 'S3cr3t-Backup-Key',
    expiresInDays: 45,
  },
  { system: 'smtp', account: 'alerts', owner: 'observability', secret: 'tr0ub4dor&3', expiresInDays: 0 },
];
