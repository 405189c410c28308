// A tiny HTTP service: GET / greets, GET /healthz answers for health checks.
const http = require('node:http');

const port = Number(process.env.PORT || 3000);
const greeting = process.env.GREETING || 'hello';

function handler(req, res) {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok' }));
    return;
  }
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${greeting}\n`);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
}

if (require.main === module) {
  http.createServer(handler).listen(port, '127.0.0.1', () => {
    console.log(`listening on ${port}`);
  });
}

module.exports = { handler };
