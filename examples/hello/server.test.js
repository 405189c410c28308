const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const { handler } = require('./server');

test('greets and answers health checks', async () => {
  const server = http.createServer(handler).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address();
  const get = (path) =>
    new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      }).on('error', reject);
    });
  try {
    assert.strictEqual((await get('/')).body, 'hello\n');
    assert.strictEqual((await get('/healthz')).status, 200);
    assert.strictEqual((await get('/nope')).status, 404);
  } finally {
    server.close(); // also when an assertion fails: an open server keeps the run alive
  }
});
