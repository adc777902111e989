import { Injectable } from '@nestjs/common';
import { assertInDivision, inDivision } from '@qmcb/auth';
import type { PersonPrincipal } from '@qmcb/auth';
import { newId } from '@qmcb/contracts';
import { DomainError } from '@qmcb/platform';
import { Clock, Decisions } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import { ProposalDecisionError, decide } from './change-proposal.decider';
import type { ChangeProposal, ProposalCommand } from './change-proposal.decider';
import { ChangeProposalRepository } from './change-proposal.repository';

const NOT_FOUND = 'no such proposed change';

@Injectable()
export class ChangesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly proposals: ChangeProposalRepository,
    private readonly decisions: Decisions,
    private readonly clock: Clock,
  ) {}

  /** Business events waiting for the county's decision, of people filed within the caller's division (or a narrower one asked for). */
  async pending(principal: PersonPrincipal, division: string | undefined, limit: number, offset: number): Promise<{ total: number; items: ChangeProposal[] }> {
    const scope = division ?? principal.division;
    if (division !== undefined && !inDivision(principal.division, division)) throw new DomainError('NOT_FOUND', 'no such division in your scope');
    return this.proposals.pending(this.dataSource.manager, scope, limit, offset);
  }

  /**
   * The county approves or rejects a waiting change (审定): under a row lock, by the pure decider, in
   * one transaction with the registry's own projection (Decisions.commit); comparison compares the
   * person again when the approval reaches it. A second decision is a 409.
   */
  async decide(principal: PersonPrincipal, proposalId: string, command: { kind: 'approve'; comment: string } | { kind: 'reject'; reason: string }): Promise<ChangeProposal> {
    return this.dataSource.transaction(async (manager) => {
      const state = await this.proposals.find(manager, proposalId, true);
      assertInDivision(principal, state?.division ?? '', NOT_FOUND);
      const county = (state?.division ?? principal.division).slice(0, 6);
      const base = { reviewerId: principal.sub, countyCode: county, at: this.clock.now().toISOString(), correlationId: newId() };
      const full: ProposalCommand = command.kind === 'approve' ? { ...base, kind: 'approve', comment: command.comment } : { ...base, kind: 'reject', reason: command.reason };
      try {
        await this.decisions.commit(manager, decide(full, state));
      } catch (e) {
        if (e instanceof ProposalDecisionError) throw new DomainError(e.code, e.code === 'NOT_FOUND' ? NOT_FOUND : e.message);
        throw e;
      }
      const after = await this.proposals.find(manager, proposalId);
      if (!after) throw new DomainError('NOT_FOUND', NOT_FOUND);
      return after;
    });
  }
}
