// A tiny webhook receiver: records every POST's raw body and headers. Paths
// starting with /fail answer 500, so an endpoint pointing there never gets a
// delivery through.

import http from 'node:http';
import { waitFor } from './stack.mjs';

export async function startReceiver() {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url,
        headers: { ...req.headers },
        rawBody: Buffer.concat(chunks).toString('utf8'),
      });
      const fail = req.url.startsWith('/fail');
      res.writeHead(fail ? 500 : 200, { 'Content-Type': 'text/plain' });
      res.end(fail ? 'failing on purpose' : 'ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: (p = '/webhooks') => `http://127.0.0.1:${port}${p}`,
    received,
    /** Deliveries (to non-failing paths) whose event type is `type`. */
    ofType(type) {
      return received.filter((r) => !r.path.startsWith('/fail')
        && JSON.parse(r.rawBody).type === type);
    },
    /** Waits until `count` deliveries satisfy `pred`; returns them. */
    async waitFor(pred, count = 1, timeoutMs = 15_000) {
      return waitFor(() => {
        const hits = received.filter(pred);
        return hits.length >= count ? hits : null;
      }, timeoutMs, `${count} webhook deliveries`);
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
