import type { ExecutionContext } from '@nestjs/common';
import type { Principal } from './principal';

/**
 * Rate limits hooked into authentication (AuthModuleOptions.limiter), so their order is fixed:
 * failed authentications count against the source address, every authenticated request against
 * its caller, before access is decided (a caller probing routes it may not call is counted too).
 */
export interface RequestLimiter {
  /** Counts an authenticated request; throws 429 when the caller is over its budget. */
  admit(context: ExecutionContext, principal: Principal): Promise<void>;
  /** Counts a failed authentication against the source address; throws 429 when it is over. */
  refuse(context: ExecutionContext): Promise<void>;
}
