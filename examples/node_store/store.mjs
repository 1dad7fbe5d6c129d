#!/usr/bin/env node
// node-store: a small shop in Node 20 that sells through the PSP with the
// unmodified official `stripe` package, the way a Stripe merchant would:
// Checkout Session + 303 redirect to the hosted payment page, a webhook
// endpoint verified with stripe.webhooks.constructEvent, order pages. Card
// data never reaches it.
//
// Start-up: listen on 127.0.0.1, register the webhook endpoint at the PSP
// (retrying while the PSP starts; skipped with --webhook-secret), then print
// exactly one line "node-store listening on 127.0.0.1:PORT". SIGTERM or
// SIGINT: stop accepting, delete the registered endpoint (best effort,
// bounded), exit 0. Exit 1 when it cannot start, 2 on bad flags.

import http from 'node:http';
import { parseOptions, usage } from './lib/options.mjs';
import { OrderBook } from './lib/order_book.mjs';
import { deleteWebhook, makeClient, registerWebhook } from './lib/psp.mjs';
import { makeHandler } from './lib/routes.mjs';

const host = '127.0.0.1'; // loopback only
const stopGraceMs = 3_000;  // then open connections are cut
// Limits on what a client may hold open.
const requestTimeoutMs = 15_000;
const headersTimeoutMs = 10_000;
const keepAliveTimeoutMs = 5_000;

const log = (line) => process.stderr.write(`node-store: ${line}\n`);

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

async function main() {
  const parsed = parseOptions(process.argv.slice(2), process.env);
  if (parsed.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (parsed.error) {
    process.stderr.write(`node-store: ${parsed.error}\n${usage}`);
    return 2;
  }
  const opts = parsed.options;
  const store = {
    book: new OrderBook(),
    stripe: makeClient(opts.secretKey, opts.pspUrl),
    publicUrl: opts.publicUrl,
    webhookSecret: opts.webhookSecret,
    webhookEndpointId: null,
    stats: { verified: 0, rejected: 0, duplicates: 0 },
    log,
  };
  const server = http.createServer({
    requestTimeout: requestTimeoutMs,
    headersTimeout: headersTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
  }, makeHandler(store));

  let stopping = false;
  let stopped;
  const done = new Promise((resolve) => { stopped = resolve; });
  const stop = async (signal) => {
    if (stopping) {
      return;
    }
    stopping = true;
    log(`${signal}: stopping`);
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), stopGraceMs);
    if (store.webhookEndpointId) {
      await deleteWebhook(store.stripe, store.webhookEndpointId)
        .catch((err) => log(`could not delete the webhook endpoint: `
          + `${err.message}`));
    }
    await closed;
    clearTimeout(cut);
    stopped(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  let port;
  try {
    port = await listen(server, opts.port);
  } catch (err) {
    log(`cannot listen on ${host}:${opts.port}: ${err.message}`);
    return 1;
  }
  store.publicUrl ??= `http://${host}:${port}`;
  if (!store.webhookSecret) {
    const url = `${store.publicUrl}/webhook`;
    try {
      const endpoint = await registerWebhook(store.stripe, url,
        { log, stopping: () => stopping });
      store.webhookEndpointId = endpoint.id;
      store.webhookSecret = endpoint.secret;
      log(`registered webhook endpoint ${endpoint.id} for ${url}`);
    } catch (err) {
      if (!stopping) {
        log(`cannot register the webhook endpoint at ${opts.pspUrl}: `
          + `${err.message}`);
        server.closeAllConnections();
        server.close();
        return 1;
      }
    }
  }
  if (!stopping) {
    process.stdout.write(`node-store listening on ${host}:${port}\n`);
  }
  return done;
}

// An explicit exit: the stripe client's keep-alive sockets to the PSP would
// otherwise hold the event loop until the PSP closes them.
process.exit(await main());
