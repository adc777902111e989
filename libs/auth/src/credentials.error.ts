export type CredentialsFailure = 'missing' | 'malformed' | 'expired' | 'invalid';

/** A token or API key that does not authenticate anyone. Mapped to 401 by the AuthGuard. */
export class CredentialsError extends Error {
  constructor(
    readonly reason: CredentialsFailure,
    message: string,
  ) {
    super(message);
    this.name = 'CredentialsError';
  }
}
