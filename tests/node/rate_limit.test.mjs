// Goal: over the per-merchant rate limit the API answers 429 and the
// official client raises StripeRateLimitError; another merchant is not
// affected, and the limit frees again with time. A request under an
// Idempotency-Key (the stripe client sends one on every POST) takes one
// token, not two, and replaying its stored answer takes none.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { useStack, sleep } from './support/stack.mjs';

const ctx = useStack({
  nodeArgs: ['--psp.rate-limit-per-s=5', '--psp.rate-limit-burst=5'],
});

test('a burst over the limit raises StripeRateLimitError', async () => {
  const stripe = new Stripe(ctx.stack.secretKey, {
    ...ctx.stack.clientOptions, maxNetworkRetries: 0,
  });
  const results = await Promise.allSettled(Array.from({ length: 12 },
    () => stripe.paymentIntents.list({ limit: 1 })));
  const limited = results.filter((r) => r.status === 'rejected');
  assert.ok(limited.length >= 5, `${limited.length} of 12 limited`);
  for (const r of limited) {
    assert.ok(r.reason instanceof Stripe.errors.StripeRateLimitError,
      r.reason.type);
    assert.equal(r.reason.statusCode, 429);
    assert.equal(r.reason.code, 'rate_limit');
  }
  const other = await ctx.stack.createMerchant('Other Shop');
  const otherClient = new Stripe(other.secretKey, {
    ...ctx.stack.clientOptions, maxNetworkRetries: 0,
  });
  await otherClient.paymentIntents.list({ limit: 1 });
  await sleep(1200);
  await stripe.paymentIntents.list({ limit: 1 });
});

test('an idempotent POST takes one token; its replay takes none', async () => {
  await sleep(1200); // a full bucket: 5 tokens
  const stripe = new Stripe(ctx.stack.secretKey, {
    ...ctx.stack.clientOptions, maxNetworkRetries: 0,
  });
  const created = [];
  for (let i = 0; i < 5; i += 1) {
    created.push(await stripe.paymentIntents.create(
      { amount: 500 + i, currency: 'usd' },
      { idempotencyKey: `one-token-${i}` }));
  }
  assert.equal(created.length, 5);
  // The bucket is empty now; a replay of a stored answer still answers.
  const again = await stripe.paymentIntents.create(
    { amount: 500, currency: 'usd' }, { idempotencyKey: 'one-token-0' });
  assert.equal(again.id, created[0].id);
  await assert.rejects(
    stripe.paymentIntents.list({ limit: 1 }),
    (err) => err instanceof Stripe.errors.StripeRateLimitError);
});
