import type { SourceFacts } from '@qmcb/contracts';
import { insuranceKey } from './registration-record';

/**
 * The slot a department record fills in the registration record: `household`,
 * `insurance:<type>:<scheme>:<region>`, `tax`, `welfare:<category>`, `death`, `enrolment`, `custody`
 * (identity-statements.ts names held slots alike). A snapshot replaces a slot; a roster that leaves a
 * held slot out flags it.
 */
export function slotOfFacts(facts: SourceFacts): string {
  switch (facts.kind) {
    case 'insurance':
      return `insurance:${insuranceKey(facts.insuranceType, facts.scheme, facts.region)}`;
    case 'welfare':
      return `welfare:${facts.category}`;
    case 'household':
    case 'tax':
    case 'death':
    case 'enrolment':
    case 'custody':
      return facts.kind;
  }
}
