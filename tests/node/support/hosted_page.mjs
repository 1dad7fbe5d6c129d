// Pays a checkout session through the hosted page with plain HTTP, as a
// browser form would: GET /pay/<cs>, POST the card form, poll status.json.

import { randomBytes } from 'node:crypto';
import { waitFor } from './stack.mjs';

export async function payWithCard(baseUrl, sessionId,
  number = '4242424242424242') {
  const page = await fetch(`${baseUrl}/pay/${sessionId}`);
  if (page.status !== 200) {
    throw new Error(`GET /pay/${sessionId}: ${page.status}`);
  }
  await page.text();
  const form = new URLSearchParams({
    nonce: randomBytes(12).toString('hex'),
    name: 'x',
    number,
    exp: '12/30',
    cvc: '123',
  });
  const res = await fetch(`${baseUrl}/pay/${sessionId}`, {
    method: 'POST',
    body: form,
    redirect: 'manual',
  });
  await res.text();
  if (res.status !== 303) {
    throw new Error(`POST /pay/${sessionId}: ${res.status}`);
  }
  // Until the intent leaves `processing`: paid, or back to a card request.
  return waitFor(async () => {
    const s = await (await fetch(`${baseUrl}/pay/${sessionId}/status.json`))
      .json();
    return s.intent_status !== 'processing' ? s : null;
  }, 20_000, `the outcome of ${sessionId}`, 100);
}
