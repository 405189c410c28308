// The catalog service, version 1: healthy. GET /api/items lists items,
// GET /healthz answers health checks.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const items = [
  { id: 1, name: 'kettle', cents: 2499 },
  { id: 2, name: 'teapot', cents: 1899 },
  { id: 3, name: 'mug', cents: 699 },
];

function handler(req, res) {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', version: 1 }));
    return;
  }
  if (req.url === '/api/items') {
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
