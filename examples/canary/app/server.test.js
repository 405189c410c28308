const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const { handler } = require('./server');

function get(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

test('lists items and answers health checks', async () => {
  const server = http.createServer(handler).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address();
  try {
    assert.equal((await get(port, '/healthz')).status, 200);
    const items = await get(port, '/api/items');
    assert.equal(items.status, 200);
    assert.equal(JSON.parse(items.body).length, 3);
  } finally {
    server.close(); // also when an assertion fails: an open server keeps the run alive
  }
});
