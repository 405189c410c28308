#!/usr/bin/env bash
# The release example: its repository has the five tagged versions, the same
# commit ids every time, v1's and v5's own tests pass, and the worse versions
# are worse by what they claim (5% errors; 200 ms slower; 10% errors only with
# PRODSPRINT_ENV=production), measured in-process. Time is
# checked only as a lower bound (v3 is never faster than its delay).
set -euo pipefail
root=${1:?source folder}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/examples/canary/make-repo.sh" "$work/a" >/dev/null
"$root/examples/canary/make-repo.sh" "$work/b" >/dev/null
[[ $(git -C "$work/a" tag | sort | tr '\n' ' ') == "v1 v2-errors v3-slow v4 v5-prod-errors " ]]
[[ $(git -C "$work/a" rev-parse v5-prod-errors) == $(git -C "$work/b" rev-parse v5-prod-errors) ]]
(cd "$work/a" && git checkout -q v1 && node --test >/dev/null)
(cd "$work/a" && git checkout -q v5-prod-errors && node --test >/dev/null)
for tag in v1 v2-errors v3-slow v4 v5-prod-errors v5-prod-errors@production; do
  git -C "$work/a" checkout -q "${tag%@*}"
  env_name=staging
  [[ $tag == *@production ]] && env_name=production
  PRODSPRINT_ENV=$env_name node - "$work/a/server.js" "$tag" <<'JS'
const http = require('node:http');
const { handler } = require(process.argv[2]);
const tag = process.argv[3];
const server = http.createServer(handler).listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
  let failed = 0, slow = 0;
  const one = () => new Promise((resolve) => {
    const t0 = Date.now();
    http.get({ host: '127.0.0.1', port, path: '/api/items', agent }, (res) => {
      res.resume();
      res.on('end', () => { failed += res.statusCode >= 500; slow += Date.now() - t0 >= 190; resolve(); });
    });
  });
  await Promise.all(Array.from({ length: 200 }, one));
  server.close();
  agent.destroy();
  // Only lower bounds on time: a loaded machine makes any request slow, but
  // never makes v3's 200 ms delay shorter.
  const ok = tag === 'v2-errors' ? failed === 10
           : tag === 'v3-slow' ? failed === 0 && slow === 200
           : tag === 'v5-prod-errors@production' ? failed === 20
           : failed === 0;  // v1, v4, v5-prod-errors outside production
  console.log(`${tag}: ${failed} failed, ${slow} slow of 200`);
  process.exit(ok ? 0 : 1);
});
JS
done
echo "the example's versions behave as tagged"
