import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class NonLocalInsuredQuery {
  @ApiProperty({ description: '6-digit county code: the insuring region whose non-local insured people are exported', example: '440981' })
  @Matches(/^\d{6}$/, { message: 'region must be a 6-digit county code' })
  region: string;
}
