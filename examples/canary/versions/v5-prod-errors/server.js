// The catalog service, version 5: worse, but only in production. A feature flag that is on
// only where PRODSPRINT_ENV is "production" makes one /api/items request in ten fail with a
// 500 there; staging (and the tests) never see it, so every readiness gate passes and only the
// canary's comparison with the stable version can catch it. GET /healthz answers health checks.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const items = [
  { id: 1, name: 'kettle', cents: 2499, stock: 12 },
  { id: 2, name: 'teapot', cents: 1899, stock: 4 },
  { id: 3, name: 'mug', cents: 699, stock: 40 },
];
const newPricing = process.env.PRODSPRINT_ENV === 'production';  // the flag
let served = 0;

function handler(req, res) {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', version: 5 }));
    return;
  }
  if (req.url === '/api/items') {
    if (newPricing && ++served % 10 === 0) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error: pricing service unavailable\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(items));
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
}

if (require.main === module) {
  const server = http.createServer(handler).listen(port, '127.0.0.1', () => {
    console.log(`catalog listening on ${port}`);
  });
  // Graceful stop: finish what is in flight, then exit.
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

module.exports = { handler };
