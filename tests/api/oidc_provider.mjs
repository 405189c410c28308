// A real OpenID provider on loopback for the API's login test:
// oauth2-mock-server (discovery, JWKS, token endpoint) with one RS256 and one
// ES256 key. The token endpoint takes the subject, audience and algorithm
// from the form (sub=, aud=, alg=), so the test can ask for the tokens it
// needs. Prints the issuer URL, then serves until killed.
// Usage: node oidc_provider.mjs PORT TOOLS_DIR (where npm installed it).
import { createRequire } from 'module';

const port = Number(process.argv[2] || 0);
const require = createRequire(process.argv[3] + '/');
const { OAuth2Server } = require('oauth2-mock-server');
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.issuer.keys.generate('ES256');
server.service.on('beforeTokenSigning', (token, req) => {
  const body = req.body || {};
  token.payload.sub = body.sub || 'alice';
  token.payload.aud = body.aud || 'prodsprint';
  if (body.expired) token.payload.exp = Math.floor(Date.now() / 1000) - 3600;
});
await server.start(port, '127.0.0.1');
console.log(server.issuer.url);
process.on('SIGTERM', async () => {
  await server.stop();
  process.exit(0);
});
