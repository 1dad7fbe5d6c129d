// Goal: the unmodified `stripe` client manages webhook endpoints on the PSP:
// create (the only answer carrying the signing secret), retrieve, list,
// update and delete, with Stripe's errors for bad input and unknown ids.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { useStack } from './support/stack.mjs';

const ctx = useStack();
const client = () => new Stripe(ctx.stack.secretKey, ctx.stack.clientOptions);

test('create, retrieve, list, update and delete an endpoint', async () => {
  const stripe = client();
  const we = await stripe.webhookEndpoints.create({
    url: 'http://127.0.0.1:9/hooks',
    enabled_events: ['checkout.session.completed',
      'payment_intent.payment_failed'],
    description: 'orders',
    metadata: { team: 'shop' },
  });
  assert.match(we.id, /^we_/);
  assert.equal(we.object, 'webhook_endpoint');
  assert.match(we.secret, /^whsec_/);
  assert.equal(we.status, 'enabled');
  assert.equal(we.url, 'http://127.0.0.1:9/hooks');
  assert.deepEqual(we.enabled_events, ['checkout.session.completed',
    'payment_intent.payment_failed']);
  assert.equal(we.description, 'orders');
  assert.deepEqual(we.metadata, { team: 'shop' });

  const got = await stripe.webhookEndpoints.retrieve(we.id);
  assert.equal(got.id, we.id);
  assert.equal(got.secret, undefined, 'the secret is shown once');
  assert.deepEqual(got.enabled_events, we.enabled_events);

  const second = await stripe.webhookEndpoints.create({
    url: 'http://127.0.0.1:9/all', enabled_events: ['*'],
  });
  const list = await stripe.webhookEndpoints.list();
  assert.equal(list.object, 'list');
  const ids = list.data.map((e) => e.id);
  assert.ok(ids.includes(we.id) && ids.includes(second.id));
  assert.ok(list.data.every((e) => e.secret === undefined));

  const updated = await stripe.webhookEndpoints.update(we.id, {
    url: 'http://127.0.0.1:9/moved',
    enabled_events: ['*'],
    disabled: true,
    metadata: { team: 'ops' },
  });
  assert.equal(updated.url, 'http://127.0.0.1:9/moved');
  assert.deepEqual(updated.enabled_events, ['*']);
  assert.equal(updated.status, 'disabled');
  assert.deepEqual(updated.metadata, { team: 'ops' });
  const enabled = await stripe.webhookEndpoints.update(we.id,
    { disabled: false });
  assert.equal(enabled.status, 'enabled');

  const deleted = await stripe.webhookEndpoints.del(we.id);
  assert.deepEqual({ ...deleted },
    { id: we.id, object: 'webhook_endpoint', deleted: true });
  await assert.rejects(stripe.webhookEndpoints.retrieve(we.id), (err) => {
    assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(err.statusCode, 404);
    return true;
  });
  const after = await stripe.webhookEndpoints.list();
  assert.ok(!after.data.some((e) => e.id === we.id));
});

test('bad endpoint parameters are StripeInvalidRequestError with param',
  async () => {
    const stripe = client();
    await assert.rejects(
      stripe.webhookEndpoints.create({ enabled_events: ['*'] }),
      (err) => err instanceof Stripe.errors.StripeInvalidRequestError
        && err.param === 'url' && err.code === 'parameter_missing');
    await assert.rejects(
      stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:9/x' }),
      (err) => err.param === 'enabled_events');
    await assert.rejects(
      stripe.webhookEndpoints.create({ url: 'ftp://x', enabled_events: ['*'] }),
      (err) => err.param === 'url' && err.code === 'parameter_invalid');
    await assert.rejects(
      stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:9/x',
        enabled_events: ['no.such.event'] }),
      (err) => err.param === 'enabled_events');
    await assert.rejects(
      stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:9/x',
        enabled_events: ['*'], colour: 'red' }),
      (err) => err.param === 'colour' && err.code === 'parameter_unknown');
    await assert.rejects(stripe.webhookEndpoints.update('we_nope',
      { description: 'x' }), (err) => err.statusCode === 404);
    await assert.rejects(stripe.webhookEndpoints.del('we_nope'),
      (err) => err.statusCode === 404);
  });
