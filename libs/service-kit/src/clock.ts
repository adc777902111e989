/**
 * The wall clock, as a class a service provides and a test replaces (STYLE.md: control the clock),
 * so that time-driven work (comparison's recompare days, webhook retries) is tested without waiting.
 * Nothing folded from the log reads it: projections take their times from the events.
 */
export class Clock {
  now(): Date {
    return new Date();
  }
}
