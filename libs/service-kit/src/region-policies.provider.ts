import { Injectable } from '@nestjs/common';
import { loadRegionPolicies, policyFor, policyForDivision, regionPoliciesFile } from '@qmcb/domain';
import type { RegionPolicies, RegionPolicy, RegistrationRecord } from '@qmcb/domain';

/**
 * The region policies of this deployment (REGION_POLICIES_FILE, default config/region-policies.json),
 * read and validated once when the service starts, so a bad file stops it there.
 */
@Injectable()
export class RegionPolicyProvider {
  readonly policies: RegionPolicies;

  constructor() {
    this.policies = loadRegionPolicies(regionPoliciesFile());
  }

  /** The policy that applies to a person (their policy region). */
  forRecord(record: Pick<RegistrationRecord, 'hukouDivision' | 'residenceDivision' | 'insurance'>): RegionPolicy {
    return policyFor(record, this.policies);
  }

  forDivision(division: string | null): RegionPolicy {
    return policyForDivision(division, this.policies);
  }
}
