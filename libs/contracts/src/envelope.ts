/**
 * The one envelope every event on the registration log carries (ARCHITECTURE.md: The log).
 * `payload` is typed per event type by the contract registry.
 */
export interface EventEnvelope<TType extends string = string, TPayload = unknown> {
  /** Unique; deterministic where the input has a natural ID, so a retried request yields the same ID. */
  eventId: string;
  type: TType;
  schemaVersion: number;
  /** Normalised 18-digit citizen ID, or a stable surrogate (`X-…`) for a record whose ID is invalid. */
  personKey: string;
  occurredAt: string;
  recordedAt: string;
  /** Department code (`dept:public-security`) or service name (`svc:comparison`). */
  source: string;
  /** Who caused it: a user (`user:<sub>`), an API key (`key:<id>`) or a service. */
  actor: string;
  correlationId: string;
  causationId: string | null;
  /** Version of the person's record a decision was based on; null for facts from outside. */
  basedOnVersion: number | null;
  payload: TPayload;
}
