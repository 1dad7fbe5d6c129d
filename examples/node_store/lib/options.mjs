// Command-line flags of the Node store, parsed by a pure function so the
// rules (defaults, bounds, loopback only) are tested without starting it.

/** What --help prints. */
export const usage = `usage: node store.mjs --psp-url URL [options]

  --port N            port on 127.0.0.1 (default 8090; 0 picks a free one)
  --psp-url URL       the PSP node, e.g. http://127.0.0.1:17001 (required)
  --secret-key KEY    the merchant's sk_test_... key (default: env PSP_API_KEY)
  --public-url URL    this store's base URL as shoppers and the PSP reach it
                      (default http://127.0.0.1:PORT)
  --webhook-secret S  use this whsec_... secret instead of registering a
                      webhook endpoint at start-up (default: env
                      NODE_STORE_WEBHOOK_SECRET)
  --journal FILE      keep the orders in FILE (replayed at start) and the
                      webhook endpoint in FILE.endpoint, kept at stop
                      (default: none, orders in memory only)
  -h, --help          this text
`;

const portDefault = 8090;
const flagNames = new Set(['--port', '--psp-url', '--secret-key',
  '--public-url', '--webhook-secret', '--journal']);

/** An http(s) URL without a trailing slash, or null. */
function baseUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return null;
  }
  if (url.search || url.hash || url.username || url.password) {
    return null;
  }
  return url.href.replace(/\/+$/, '');
}

/** Splits `--flag value` and `--flag=value` into a map; an error string. */
function collect(argv) {
  const values = new Map();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      return { help: true };
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!flagNames.has(name)) {
      return { error: `unknown argument '${arg}'` };
    }
    let value = eq > 0 ? arg.slice(eq + 1) : argv[i + 1];
    if (eq < 0) {
      i += 1;
    }
    if (value === undefined) {
      return { error: `${name} needs a value` };
    }
    values.set(name, value);
  }
  return { values };
}

/**
 * Parses argv (without node and the script) and env into
 * {options} | {help: true} | {error}. Options: port, pspUrl, secretKey,
 * publicUrl (null: derive from the bound port), webhookSecret (null:
 * register an endpoint), journal (null: orders in memory only).
 */
export function parseOptions(argv, env = {}) {
  const got = collect(argv);
  if (!got.values) {
    return got;
  }
  const v = got.values;
  const portText = v.get('--port') ?? String(portDefault);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    return { error: '--port must be a number from 0 to 65535' };
  }
  const pspUrl = baseUrl(v.get('--psp-url') ?? '');
  if (!pspUrl || new URL(pspUrl).pathname !== '/') {
    return { error: '--psp-url must be an http(s) URL with no path, e.g. '
      + 'http://127.0.0.1:17001' };
  }
  const secretKey = v.get('--secret-key') ?? env.PSP_API_KEY ?? '';
  if (!/^sk_(test|live)_[A-Za-z0-9_]+$/.test(secretKey)) {
    return { error: 'a secret key sk_test_... is needed (--secret-key or '
      + 'env PSP_API_KEY)' };
  }
  let publicUrl = null;
  if (v.has('--public-url')) {
    publicUrl = baseUrl(v.get('--public-url'));
    if (!publicUrl) {
      return { error: '--public-url must be an http(s) URL without query' };
    }
  }
  const webhookSecret = v.get('--webhook-secret')
    ?? env.NODE_STORE_WEBHOOK_SECRET ?? null;
  if (webhookSecret !== null && !/^whsec_\S+$/.test(webhookSecret)) {
    return { error: '--webhook-secret must start with whsec_' };
  }
  const journal = v.get('--journal') ?? null;
  if (journal !== null && (journal === '' || journal.endsWith('/'))) {
    return { error: '--journal must name a file' };
  }
  return {
    options: {
      port: Number(portText), pspUrl, secretKey, publicUrl, webhookSecret,
      journal,
    },
  };
}

/** Options for `new Stripe(key, ...)` that point it at the PSP node. */
export function stripeConnection(pspUrl) {
  const url = new URL(pspUrl);
  const protocol = url.protocol.slice(0, -1);
  const port = url.port ? Number(url.port) : (protocol === 'https' ? 443 : 80);
  return { host: url.hostname, port, protocol };
}
