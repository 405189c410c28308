// The catalog service, version 2: worse. One /api/items request in 20 fails with a 500
// (5%, deterministic so that tests and benchmarks repeat). GET /api/items lists items,
// GET /healthz answers health checks.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const items = [
  { id: 1, name: 'kettle', cents: 2499 },
  { id: 2, name: 'teapot', cents: 1899 },
  { id: 3, name: 'mug', cents: 699 },
];

let served = 0;

function handler(req, res) {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', version: 2 }));
    return;
  }
  if (req.url === '/api/items') {
    if (++served % 20 === 0) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
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
