// A client we did not write: npm `eventsource` (the WHATWG EventSource for
// Node) follows a run's stream with a bearer token, reconnecting by itself
// with Last-Event-ID when the server goes away. Prints every event id it
// got, one JSON line, once the stream ends with `end` {"reason":"finished"}.
// Usage: node eventsource_client.mjs URL TOKEN TOOLS_DIR
import { createRequire } from 'module';

const [url, token, tools] = process.argv.slice(2);
const require = createRequire(tools + '/');
const { EventSource } = require('eventsource');

const ids = [];
let shutdowns = 0;
let errors = 0;
const es = new EventSource(url, {
  fetch: (input, init) =>
    fetch(input, { ...init, headers: { ...init.headers, Authorization: 'Bearer ' + token } }),
});
for (const name of ['run.created', 'run.started', 'release.progress', 'run.done']) {
  es.addEventListener(name, (e) => ids.push(Number(e.lastEventId)));
}
es.addEventListener('end', (e) => {
  const reason = JSON.parse(e.data).reason;
  if (reason === 'shutdown') {
    shutdowns++;  // the server is going away: EventSource comes back by itself
    return;
  }
  es.close();
  console.log(JSON.stringify({ ids, shutdowns, errors }));
  process.exit(0);
});
es.onerror = () => { errors++; };
setTimeout(() => {
  console.log(JSON.stringify({ ids, shutdowns, errors, timeout: true }));
  process.exit(1);
}, 60000);
