/** Development defaults (docs/conventions.md); refused when NODE_ENV=production. */
export const DEV_AUTH_JWT_SECRET = 'dev-only-jwt-secret-change-me';
export const DEV_API_KEY_SECRET = 'dev-only-api-key-secret-change-me';

export interface AuthSecrets {
  jwtSecret: string;
  apiKeySecret: string;
}

/**
 * The two secrets from the environment, with the development defaults when unset. Throws when
 * NODE_ENV=production and either secret is unset or still the development default.
 */
export function authSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): AuthSecrets {
  const secrets = {
    jwtSecret: env['AUTH_JWT_SECRET'] || DEV_AUTH_JWT_SECRET,
    apiKeySecret: env['API_KEY_SECRET'] || DEV_API_KEY_SECRET,
  };
  assertUsableSecrets(secrets, env['NODE_ENV']);
  return secrets;
}

export function assertUsableSecrets(secrets: AuthSecrets, nodeEnv: string | undefined): void {
  if (nodeEnv !== 'production') return;
  const refused = [
    secrets.jwtSecret === DEV_AUTH_JWT_SECRET ? 'AUTH_JWT_SECRET' : null,
    secrets.apiKeySecret === DEV_API_KEY_SECRET ? 'API_KEY_SECRET' : null,
  ].filter((v): v is string => v !== null);
  if (refused.length) {
    throw new Error(`${refused.join(' and ')} must be set to a real secret when NODE_ENV=production (the development default is refused)`);
  }
}
