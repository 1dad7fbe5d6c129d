#!/usr/bin/env node
// node-store: a small shop in Node 20 that sells through the PSP with the
// unmodified official `stripe` package, the way a Stripe merchant would:
// Checkout Session + 303 redirect to the hosted payment page, a webhook
// endpoint verified with stripe.webhooks.constructEvent, order pages. Card
// data never reaches it.
//
// Start-up: replay the --journal (if any), listen on 127.0.0.1, register
// the webhook endpoint at the PSP (retrying while the PSP starts; skipped
// with --webhook-secret; with a journal, the endpoint saved beside it is
// kept if the PSP still has it), ask the PSP about pending orders' sessions,
// then print exactly one line "node-store listening on 127.0.0.1:PORT".
// SIGTERM or SIGINT: stop accepting, delete the registered endpoint unless
// a journal keeps it (best effort, bounded), exit 0. Exit 1 when it cannot
// start, 2 on bad flags.

import http from 'node:http';
import { parseOptions, usage } from './lib/options.mjs';
import { endpointFile, Journal, loadEndpoint, saveEndpoint }
  from './lib/journal.mjs';
import { OrderBook } from './lib/order_book.mjs';
import { deleteWebhook, findWebhook, makeClient, registerWebhook }
  from './lib/psp.mjs';
import { syncPendingOrders } from './lib/order_sync.mjs';
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
  let journal = null;
  let book;
  try {
    ({ journal, book } = openBook(opts.journal));
  } catch (err) {
    log(`cannot use the journal ${opts.journal}: ${err.message}`);
    return 1;
  }
  const store = {
    book,
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
    if (store.webhookEndpointId && !journal) {
      await deleteWebhook(store.stripe, store.webhookEndpointId)
        .catch((err) => log(`could not delete the webhook endpoint: `
          + `${err.message}`));
    }
    await closed;
    clearTimeout(cut);
    journal?.close();
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
      const endpoint = await ensureEndpoint(store, url,
        journal && endpointFile(journal.file), () => stopping);
      store.webhookEndpointId = endpoint.id;
      store.webhookSecret = endpoint.secret;
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
    await syncPendingOrders(store);
    process.stdout.write(`node-store listening on ${host}:${port}\n`);
  }
  return done;
}

/** The order book, with its journal replayed when there is one. */
function openBook(file) {
  if (!file) {
    return { journal: null, book: new OrderBook() };
  }
  const journal = Journal.open(file);
  const book = new OrderBook(undefined, undefined, journal);
  try {
    const { records, tornBytes } = journal.replay((r) => book.applyRecord(r));
    log(`journal ${file}: ${records} records, ${book.orders.size} orders`
      + (tornBytes ? `; a torn last line (${tornBytes} bytes) dropped` : ''));
  } catch (err) {
    journal.close();
    throw err;
  }
  return { journal, book };
}

/**
 * The endpoint saved beside the journal if the PSP still has it for `url`;
 * otherwise a new one (saved there, when there is a journal).
 */
async function ensureEndpoint(store, url, savedFile, stopping) {
  const saved = savedFile ? loadEndpoint(savedFile) : null;
  if (saved && saved.url === url) {
    const found = await findWebhook(store.stripe, saved.id, { stopping });
    if (found && found.url === url) {
      log(`kept webhook endpoint ${saved.id} for ${url}`);
      return saved;
    }
    log(`webhook endpoint ${saved.id} is gone at the PSP; registering anew`);
  } else if (saved) {
    // Registered for another URL (the store moved): deliveries there fail.
    await deleteWebhook(store.stripe, saved.id).then(
      () => log(`deleted webhook endpoint ${saved.id} for ${saved.url}`),
      (err) => log(`could not delete webhook endpoint ${saved.id}: `
        + `${err.message}`));
  }
  const endpoint = await registerWebhook(store.stripe, url,
    { log, stopping });
  log(`registered webhook endpoint ${endpoint.id} for ${url}`);
  if (savedFile) {
    saveEndpoint(savedFile, { id: endpoint.id, secret: endpoint.secret, url });
  }
  return endpoint;
}

// An explicit exit: the stripe client's keep-alive sockets to the PSP would
// otherwise hold the event loop until the PSP closes them.
process.exit(await main());
