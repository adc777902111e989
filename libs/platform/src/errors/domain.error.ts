import type { ContractViolation } from '@qmcb/contracts';
import type { ErrorCode } from './error-code';

export type Violation = ContractViolation;

/**
 * An error a service means to report to its caller. Services throw it (or a subclass per module)
 * with a code; only the exception filter at the edge turns the code into an HTTP status.
 */
export class DomainError extends Error {
  readonly violations?: Violation[];

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { violations?: Violation[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    if (options.violations) this.violations = options.violations;
  }
}
