// The catalog service, version 4: healthy, a new field. GET /api/items lists items with
// their stock, GET /healthz answers health checks.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const items = [
  { id: 1, name: 'kettle', cents: 2499, stock: 12 },
  { id: 2, name: 'teapot', cents: 1899, stock: 4 },
  { id: 3, name: 'mug', cents: 699, stock: 40 },
];

function handler(req, res) {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', version: 4 }));
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
