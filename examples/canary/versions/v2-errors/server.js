// The catalog service, version 2: worse. One /api/items request in 20 fails with a 500:
// exactly one in each run of 20, at a place a seeded generator picks (FAULT_SEED, else
// the process id), so the rate is exact and the spacing irregular, as real faults are. GET /api/items lists items,
// GET /healthz answers health checks.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const items = [
  { id: 1, name: 'kettle', cents: 2499 },
  { id: 2, name: 'teapot', cents: 1899 },
  { id: 3, name: 'mug', cents: 699 },
];

let served = 0;
let seed = Number(process.env.FAULT_SEED || process.pid) >>> 0;
function random() {  // mulberry32
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
let failAt = Math.floor(random() * 20);

function handler(req, res) {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', version: 2 }));
    return;
  }
  if (req.url === '/api/items') {
    const place = served++ % 20;
    if (place === 0 && served > 1) failAt = Math.floor(random() * 20);
    if (place === failAt) {
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
