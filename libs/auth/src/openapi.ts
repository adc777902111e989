/** Names of the OpenAPI security schemes (set up by @qmcb/platform's setupOpenApi). */
export const OPENAPI_BEARER = 'bearer';
export const OPENAPI_API_KEY = 'api-key';
export const API_KEY_HEADER = 'x-api-key';
