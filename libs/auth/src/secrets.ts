/**
 * The development secrets this repository once defaulted to. They are published, so they are
 * refused everywhere, whatever NODE_ENV says (docs/security.md, "Secrets").
 */
export const DEV_AUTH_JWT_SECRET = 'dev-only-jwt-secret-change-me';
export const DEV_API_KEY_SECRET = 'dev-only-api-key-secret-change-me';
export const KNOWN_PUBLISHED_SECRETS: readonly string[] = [DEV_AUTH_JWT_SECRET, DEV_API_KEY_SECRET];
/** Every secret is at least this long (256 bits as hex or base64 is 43-64 characters). */
export const MIN_SECRET_LENGTH = 32;

export interface AuthSecrets {
  jwtSecret: string;
  apiKeySecret: string;
}

/** Why a secret is refused, or undefined when it is usable. Never echoes the value. */
export function secretProblem(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return 'is missing';
  if (value.length < MIN_SECRET_LENGTH) return `must be at least ${MIN_SECRET_LENGTH} characters`;
  if (KNOWN_PUBLISHED_SECRETS.includes(value)) return 'is a published development value';
  if (new Set(value).size < 8) return 'has fewer than 8 distinct characters';
  return undefined;
}

/**
 * The two secrets from the environment. There are no defaults: a process without real secrets
 * does not start, whatever NODE_ENV says (a local stack generates its own, deploy/local/env.sh).
 */
export function authSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): AuthSecrets {
  const secrets = { jwtSecret: env['AUTH_JWT_SECRET'] ?? '', apiKeySecret: env['API_KEY_SECRET'] ?? '' };
  assertUsableSecrets(secrets);
  return secrets;
}

export function assertUsableSecrets(secrets: AuthSecrets): void {
  const refused = [
    ['AUTH_JWT_SECRET', secretProblem(secrets.jwtSecret)],
    ['API_KEY_SECRET', secretProblem(secrets.apiKeySecret)],
  ].filter((p): p is [string, string] => p[1] !== undefined);
  if (refused.length) throw new Error(refused.map(([name, problem]) => `${name} ${problem}`).join('; '));
}
