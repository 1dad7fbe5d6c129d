// What the Node store sells. Prices are integers of minor units (cents),
// never floating point.

const products = [
  { id: 'hoodie', name: 'Event Loop Hoodie',
    blurb: 'Single-threaded warmth, never blocks.', unitAmount: 4500,
    currency: 'eur' },
  { id: 'cap', name: 'Callback Cap',
    blurb: 'Call it back any time; it remembers you.', unitAmount: 1800,
    currency: 'eur' },
  { id: 'poster', name: 'Signed Webhook Poster',
    blurb: 'HMAC-SHA256 on heavy paper.', unitAmount: 900, currency: 'eur' },
];

export function catalog() {
  return products;
}

export function findProduct(id) {
  return products.find((p) => p.id === id) ?? null;
}

/** 4500, 'eur' -> '45.00 EUR' (two decimals suit every currency sold here). */
export function formatMoney(amountMinor, currency) {
  const sign = amountMinor < 0 ? '-' : '';
  const abs = Math.abs(amountMinor);
  const cents = String(abs % 100).padStart(2, '0');
  return `${sign}${Math.floor(abs / 100)}.${cents} ${currency.toUpperCase()}`;
}
