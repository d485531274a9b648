import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { checkOptionsObject, invalidOption } from '../option-checks.js';

/** Options of the host's OpenTelemetry spans and metrics (the `openTelemetry` host option). */
export interface OpenTelemetryOptions {
  /**
   * Where the host's spans go.
   * @default the global tracer provider of `@opentelemetry/api` (a no-op until an SDK registers one)
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * Where the host's metrics go; the global one is read when the host starts, so register the SDK before that.
   * @default the global meter provider of `@opentelemetry/api` (a no-op until an SDK registers one)
   */
  readonly meterProvider?: MeterProvider;
}

/** Checks the `openTelemetry` host option: `false`, or providers with the method each must have. */
export function checkOpenTelemetryOptions(value: unknown): void {
  if (value === undefined || value === false) return;
  checkOptionsObject('openTelemetry', value, 'false or { tracerProvider, meterProvider }');
  const { tracerProvider, meterProvider } = value as Record<string, unknown>;
  if (tracerProvider !== undefined && typeof (tracerProvider as TracerProvider)?.getTracer !== 'function') {
    throw invalidOption('openTelemetry.tracerProvider', 'a TracerProvider (with getTracer)', tracerProvider);
  }
  if (meterProvider !== undefined && typeof (meterProvider as MeterProvider)?.getMeter !== 'function') {
    throw invalidOption('openTelemetry.meterProvider', 'a MeterProvider (with getMeter)', meterProvider);
  }
}
