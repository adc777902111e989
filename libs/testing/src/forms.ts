import { randomUUID } from 'crypto';

/** GB 11643: the 17th character is odd for a man. */
export function sexOfCitizenId(citizenId: string): 'male' | 'female' {
  return Number(citizenId[16]) % 2 === 1 ? 'male' : 'female';
}

/** GB 11643: characters 7–14 are the birth date (YYYYMMDD), as an ISO date. */
export function birthDateOfCitizenId(citizenId: string): string {
  return `${citizenId.slice(6, 10)}-${citizenId.slice(10, 12)}-${citizenId.slice(12, 14)}`;
}

export interface HouseholdMemberFound {
  citizenId: string;
  name: string;
  relation: string;
  status?: 'present' | 'absent' | 'deceased' | 'moved-out';
}

export interface RegistrationFormOptions {
  citizenId: string;
  name: string;
  /** The village (12-digit code) the person lives in. */
  residenceDivision: string;
  /** Every registered member of the household as found on the visit (三不漏); `present` unless said. */
  members: readonly HouseholdMemberFound[];
  residenceAddress?: string;
  phone?: string;
}

/**
 * A surveyor's upload of a complete 全民参保登记表 (survey-tasking `POST /tasks/:taskId/submissions`):
 * sex and birth date agree with the citizen ID, both resident schemes active in the county, the
 * household as found. Fresh submission and visit IDs each time.
 */
export function registrationFormSubmission(o: RegistrationFormOptions): object {
  const county = o.residenceDivision.slice(0, 6);
  return {
    submissionId: randomUUID(),
    visitId: randomUUID(),
    request: {
      kind: 'registration-form',
      fields: {
        citizenId: o.citizenId,
        name: o.name,
        sex: sexOfCitizenId(o.citizenId),
        birthDate: birthDateOfCitizenId(o.citizenId),
        phone: o.phone ?? '13800138000',
        employmentStatus: 'farmer',
        residenceAddress: o.residenceAddress ?? '广东省高州市石仔岭街道南宫居委会 12 号',
        residenceDivision: o.residenceDivision,
        insurance: [
          { insuranceType: 'pension', scheme: 'resident', status: 'active', region: county },
          { insuranceType: 'medical', scheme: 'resident', status: 'active', region: county },
        ],
        insuredElsewhere: false,
      },
      evidence: [],
      unknown: [],
    },
    household: { members: o.members.map((m) => ({ ...m, status: m.status ?? 'present' })) },
  };
}
