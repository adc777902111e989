import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODES } from '../errors/error-code';
import type { ErrorCode } from '../errors/error-code';

/** OpenAPI schema of a violation (docs/api/errors.md). */
export class ViolationDto {
  @ApiProperty({ example: 'form.phone' }) field: string;
  @ApiProperty({ example: 'matches' }) rule: string;
  @ApiProperty({ example: 'form.phone must be an 11-digit mobile number' }) message: string;
}

/** OpenAPI schema of every error body (docs/api/errors.md). */
export class ErrorBodyDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ enum: ERROR_CODES, example: 'VALIDATION_FAILED' }) code: ErrorCode;
  @ApiProperty({ example: 'validation failed: form.phone' }) message: string;
  @ApiPropertyOptional({ type: [ViolationDto] }) violations?: ViolationDto[];
}
