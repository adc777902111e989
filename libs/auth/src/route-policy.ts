import { SetMetadata, applyDecorators } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { Department } from '@qmcb/contracts';
import { PURPOSE_HEADER, PURPOSE_REF_HEADER } from './purpose';
import type { Purpose } from './purpose';
import type { Role } from './role';

export const PERSONAL_DATA_KEY = 'qmcb:route:personal-data';

/**
 * What a route does with personal data:
 * - `read`: one person's data (a person view, a lookup);
 * - `list`: pages that name people (queues, flag lists);
 * - `export`: a stream of people's data (a file for another authority);
 * - `write`: a change of someone's data (a submission, a decision, a department's records).
 */
export type PersonalDataAccess = 'read' | 'list' | 'export' | 'write';

/** Callers who see full values in a list or an export when they state one of `purposes`. */
export interface Disclosure {
  roles?: readonly Role[];
  departments?: readonly Department[];
  purposes: readonly Purpose[];
}

export interface PersonalDataPolicy {
  access: PersonalDataAccess;
  /**
   * The purposes this route serves (PIPL art. 6). A person reading (read, list, export) must state
   * one with `X-Purpose`; for writes and department systems the first is assumed when none is stated.
   */
  purposes: readonly [Purpose, ...Purpose[]];
  /** Lists and exports are masked (citizen ID, name, phone, address) except for these callers. */
  unmasked?: readonly Disclosure[];
  /** Four eyes: the caller may not decide on what they submitted or reviewed before (refused 403). */
  fourEyes?: boolean;
}

/** The declaration of a route: its personal-data policy, or `none` for a route that handles none. */
export type PersonalDataDeclaration = PersonalDataPolicy | 'none';

/**
 * Declares that a route handles personal data: what it does with it, for which purposes, who sees it
 * unmasked. The platform then audits it (who, role, division, address, request, people, purpose,
 * result), requires the purpose, masks lists and exports, and rate-limits it by kind.
 */
export function PersonalData(policy: PersonalDataPolicy): ReturnType<typeof applyDecorators> {
  if (policy.purposes.length === 0) throw new Error('@PersonalData needs at least one purpose');
  const reading = policy.access !== 'write';
  return applyDecorators(
    SetMetadata(PERSONAL_DATA_KEY, policy),
    ApiHeader({
      name: PURPOSE_HEADER,
      required: reading && policy.purposes.length > 1,
      description: `Why (PIPL art. 6): one of ${policy.purposes.join(', ')}${reading && policy.purposes.length > 1 ? ' (required of people)' : `; default ${policy.purposes[0]}`}`,
    }),
    ApiHeader({ name: PURPOSE_REF_HEADER, required: false, description: 'A reference for the purpose (a window ticket, a case number), kept in the audit' }),
  );
}

/** Declares that a route handles no personal data (counts, reports without people). Refusals are still audited. */
export const NoPersonalData = (): ReturnType<typeof SetMetadata> => SetMetadata(PERSONAL_DATA_KEY, 'none');
