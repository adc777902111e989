// Runs TypeScript sources directly (services, commands, bench) with decorator metadata,
// resolving the @qmcb/* path aliases from tsconfig.base.json.
const path = require('path');
process.env.TZ = process.env.TZ || 'UTC';
process.env.TS_NODE_PROJECT = process.env.TS_NODE_PROJECT || path.join(__dirname, '..', 'tsconfig.json');
const { paths } = require('../tsconfig.base.json').compilerOptions;
require('tsconfig-paths').register({ baseUrl: path.join(__dirname, '..'), paths });
require('@swc-node/register');
