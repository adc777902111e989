import { Inject, Injectable } from '@nestjs/common';
import { verifyApiKey } from './api-key';
import { AUTH_OPTIONS } from './auth.options';
import type { AuthModuleOptions } from './auth.options';
import { CredentialsError } from './credentials.error';
import { unauthenticated, unavailable } from './http-errors';
import type { Principal } from './principal';
import { API_KEY_REVOCATIONS } from './revocation';
import type { ApiKeyRevocations } from './revocation';
import { verifyToken } from './token';

export type HeaderValue = string | string[] | undefined;

function single(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

/** Turns request headers into a principal, or a 401 (503 when the revocation list is unknown). */
@Injectable()
export class Authenticator {
  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: AuthModuleOptions,
    @Inject(API_KEY_REVOCATIONS) private readonly revocations: ApiKeyRevocations,
  ) {}

  async authenticate(headers: Record<string, HeaderValue>): Promise<Principal> {
    const authorization = single(headers['authorization']);
    const apiKey = single(headers['x-api-key']);
    if (authorization !== undefined && apiKey !== undefined) {
      throw unauthenticated('send either Authorization or X-Api-Key, not both');
    }
    try {
      if (authorization !== undefined) return await this.person(authorization);
      if (apiKey !== undefined) return await this.system(apiKey);
    } catch (e) {
      if (e instanceof CredentialsError) throw unauthenticated(e.message);
      throw e;
    }
    throw unauthenticated('missing credentials: send Authorization: Bearer <token> or X-Api-Key: <key>');
  }

  private async person(authorization: string): Promise<Principal> {
    const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(authorization);
    if (!match) throw new CredentialsError('malformed', 'malformed Authorization header: expected Bearer <token>');
    const person = verifyToken(match[1], this.options.jwtSecret, { maxTtlSeconds: this.options.maxTokenTtlSeconds });
    let revoked: boolean;
    try {
      revoked = await this.revocations.isPersonRevoked(person);
    } catch {
      // Fail closed, as for API keys: a token revoked because its holder left must not read personal data while Redis is away.
      throw unavailable('token revocation list unavailable; retry later');
    }
    if (revoked) throw new CredentialsError('invalid', 'token revoked');
    return person;
  }

  private async system(key: string): Promise<Principal> {
    const { department, keyId } = verifyApiKey(key.trim(), this.options.apiKeySecret);
    let revoked: boolean;
    try {
      revoked = await this.revocations.isRevoked(keyId);
    } catch {
      // Fail closed: a possibly revoked (leaked) key must not write to the registry while Redis is away.
      throw unavailable('API key revocation list unavailable; retry later');
    }
    if (revoked) throw new CredentialsError('invalid', 'API key revoked');
    return { kind: 'system', department, keyId };
  }
}
