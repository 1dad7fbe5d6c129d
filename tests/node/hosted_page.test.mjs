// Goal: a real browser (Debian's Chromium driven by playwright-core) pays on
// the hosted page and lands on the store's success_url with the session id
// substituted; a declined card shows the decline and a "Try another card"
// link. Screenshots of the form and of the decline go to the OS temp dir.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { chromium } from 'playwright-core';
import { useStack } from './support/stack.mjs';

const chromiumPath = process.env.CHROMIUM_BINARY ?? '/usr/bin/chromium';
const shotDir = path.join(os.tmpdir(), 'psp-node-screenshots');

async function startBrowserAndShop() {
  assert.ok(existsSync(chromiumPath), `no Chromium at ${chromiumPath} `
    + '(apt-get install chromium)');
  mkdirSync(shotDir, { recursive: true });
  shop = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Thanks</title><h1 id="thanks">Thank you'
      + '</h1>');
  });
  await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${shop.address().port}`;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
  });
}

let browser;
let shop; // the tiny store page success_url points to
let shopUrl;
const ctx = useStack({
  setup: startBrowserAndShop,
  async teardown() {
    await browser?.close();
    await new Promise((resolve) => (shop ? shop.close(resolve) : resolve()));
  },
});

const client = () => new Stripe(ctx.stack.secretKey, ctx.stack.clientOptions);

async function newSession() {
  return client().checkout.sessions.create({
    mode: 'payment',
    line_items: [
      { price_data: { currency: 'eur', unit_amount: 2500,
        product_data: { name: 'Hoodie' } }, quantity: 1 },
      { price_data: { currency: 'eur', unit_amount: 450,
        product_data: { name: 'Sticker pack' } }, quantity: 3 },
    ],
    success_url: `${shopUrl}/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${shopUrl}/cart`,
  });
}

async function fillCard(page, number) {
  await page.fill('input[name="name"]', 'Ada Lovelace');
  await page.fill('#number', number);
  await page.fill('#exp', '12/30');
  await page.fill('#cvc', '123');
}

test('a card that succeeds lands on success_url with the session id',
  async (t) => {
    const session = await newSession();
    const page = await browser.newPage();
    try {
      await page.goto(session.url, { timeout: 15_000 });
      assert.match(await page.textContent('#total'), /38\.50 EUR/);
      await fillCard(page, '4242424242424242');
      const formShot = path.join(shotDir, 'hosted-page-form.png');
      await page.screenshot({ path: formShot, fullPage: true });
      t.diagnostic(`screenshot: ${formShot}`);
      await page.click('#pay');
      const expected = `${shopUrl}/success?session_id=${session.id}`;
      await page.waitForURL(expected, { timeout: 20_000 });
      assert.equal(page.url(), expected);
      assert.equal(await page.textContent('#thanks'), 'Thank you');
      // What a store shows afterwards: the card, through the official client.
      const stripe = client();
      const paid = await stripe.checkout.sessions.retrieve(session.id);
      const intent = await stripe.paymentIntents.retrieve(paid.payment_intent);
      const method = await stripe.paymentMethods.retrieve(
        intent.payment_method);
      assert.equal(method.card.last4, '4242');
      assert.equal(method.card.brand, 'visa');
      assert.equal(method.card.exp_month, 12);
      assert.equal(method.card.exp_year, 2030);
    } finally {
      await page.close();
    }
  });

test('a declined card shows the decline and a "Try another card" link',
  async (t) => {
    const session = await newSession();
    const page = await browser.newPage();
    try {
      await page.goto(session.url, { timeout: 15_000 });
      await fillCard(page, '4000000000000002');
      await page.click('#pay');
      await page.waitForSelector('#retry', { state: 'visible',
        timeout: 20_000 });
      const status = await page.textContent('#status');
      assert.match(status, /declined/i);
      const declineShot = path.join(shotDir, 'hosted-page-declined.png');
      await page.screenshot({ path: declineShot, fullPage: true });
      t.diagnostic(`screenshot: ${declineShot}`);
      assert.equal(await page.getAttribute('#retry a', 'href'),
        `/pay/${session.id}`);
      assert.match(await page.textContent('#retry'), /Try another card/);
      // The link leads back to the form, which can then be paid.
      await page.click('#retry a');
      await page.waitForSelector('#number', { timeout: 10_000 });
      await fillCard(page, '4242424242424242');
      await page.click('#pay');
      await page.waitForURL(`${shopUrl}/success?session_id=${session.id}`,
        { timeout: 20_000 });
    } finally {
      await page.close();
    }
  });

test('a mistyped expiry is caught in the page, the card number kept',
  async () => {
    // The server never writes a card number back into a page, so a form it
    // refuses comes back without one; the page's own check (the server's
    // rules and messages) spares the shopper typing it again.
    const session = await newSession();
    const page = await browser.newPage();
    try {
      let posts = 0;
      page.on('request', (r) => { posts += r.method() === 'POST' ? 1 : 0; });
      await page.goto(session.url, { timeout: 15_000 });
      await fillCard(page, '４２４２ ４２４２ ４２４２ ４２４２');
      await page.fill('#exp', '13/30');
      await page.click('#pay');
      await page.waitForSelector('#error-exp', { timeout: 5_000 });
      assert.match(await page.textContent('#error-exp'),
        /expiration month is invalid/);
      assert.equal(await page.getAttribute('#exp', 'aria-invalid'), 'true');
      assert.match(await page.getAttribute('#exp', 'aria-describedby'),
        /error-exp/);
      assert.equal(await page.evaluate(() => document.activeElement.id), 'exp');
      assert.equal(posts, 0, 'nothing was sent');
      // Full-width digits became ASCII ones, and the number is still there.
      assert.equal(await page.inputValue('#number'), '4242 4242 4242 4242');
      assert.equal(await page.$('#error-number'), null);
      // A length its brand never issues (a 15-digit Visa passes Luhn) and
      // an Amex's 4-digit code on a Visa are the server's refusals too.
      await page.fill('#exp', '12/30');
      await page.fill('#number', '424242424242424');
      await page.fill('#cvc', '1234');
      await page.click('#pay');
      await page.waitForSelector('#error-number', { timeout: 5_000 });
      assert.match(await page.textContent('#error-number'), /is invalid/);
      assert.match(await page.textContent('#error-cvc'), /security code/);
      assert.equal(await page.$('#error-exp'), null);
      assert.match(await page.title(), /^Error: /);
      assert.equal(posts, 0, 'nothing was sent');
      // A name holding 12 digits may be a card number in the wrong field.
      await page.fill('input[name="name"]', '4242 4242 4242');
      await page.click('#pay');
      await page.waitForSelector('#error-name', { timeout: 5_000 });
      assert.equal(posts, 0, 'nothing was sent');
      // Corrected, the same form pays; the error goes with the mistake.
      await page.fill('input[name="name"]', 'Ada Lovelace');
      await page.fill('#number', '4242 4242 4242 4242');
      await page.fill('#cvc', '123');
      await page.click('#pay');
      await page.waitForURL(`${shopUrl}/success?session_id=${session.id}`,
        { timeout: 20_000 });
    } finally {
      await page.close();
    }
  });
