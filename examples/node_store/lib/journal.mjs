// The store's memory across restarts: its order book's changes as one JSON
// line each, made durable (fdatasync) before the change is applied, and
// replayed at start; its webhook endpoint (id and secret) in a file beside
// it. Without them a restarted store forgets its orders, and a new endpoint
// would lose what the PSP still had to deliver to the old one.
//
// Synchronous on purpose: a line is on disk before the request that made it
// is answered (a webhook is acknowledged only once its change is durable),
// and the store is small enough that a blocked event loop for one fsync
// does not matter.

import fs from 'node:fs';
import path from 'node:path';

/**
 * An append-only JSON-lines file. open() reads what is there (replay), then
 * append() adds one record at a time.
 */
export class Journal {
  /** Opens (creating) `file`; throws when it cannot. */
  static open(file) {
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT
      | fs.constants.O_APPEND, 0o600);
    return new Journal(fd, file);
  }

  constructor(fd, file) {
    this.fd = fd;
    this.file = file;
    this.failed = null; // why appends are refused, after a failed one
  }

  /**
   * Gives each record to `apply` in order; `apply` throws when a record does
   * not fit. A last line without its newline, or one that is not JSON, was
   * torn by a crash mid-write: it is cut off the file. Any other bad line
   * throws, and the file is left as it is. Returns {records, tornBytes}.
   */
  replay(apply) {
    const text = fs.readFileSync(this.file, 'utf8');
    let start = 0;
    let records = 0;
    while (start < text.length) {
      const end = text.indexOf('\n', start);
      const line = end < 0 ? text.slice(start) : text.slice(start, end);
      let record;
      try {
        record = end < 0 ? undefined : JSON.parse(line);
      } catch {
        record = undefined;
      }
      if (record === undefined) {
        if (end >= 0 && end + 1 < text.length) {
          throw new Error(`${this.file}: line ${records + 1} is not JSON`);
        }
        const keep = Buffer.byteLength(text.slice(0, start), 'utf8');
        fs.ftruncateSync(this.fd, keep);
        fs.fdatasyncSync(this.fd);
        return { records, tornBytes: Buffer.byteLength(text, 'utf8') - keep };
      }
      apply(record);
      records += 1;
      start = end + 1;
    }
    return { records, tornBytes: 0 };
  }

  /** Writes one record and its newline, then fdatasync; throws on failure. */
  append(record) {
    if (this.failed) {
      throw new Error(`journal ${this.file} refuses writes: ${this.failed}`);
    }
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    try {
      let written = 0;
      while (written < line.length) {
        written += fs.writeSync(this.fd, line, written);
      }
      fs.fdatasyncSync(this.fd);
    } catch (err) {
      // What a failed write or fsync left on disk is unknown: no more lines.
      this.failed = err.message;
      throw err;
    }
  }

  close() {
    fs.closeSync(this.fd);
  }
}

/** Where the endpoint of the store whose journal is `journalFile` is kept. */
export const endpointFile = (journalFile) => `${journalFile}.endpoint`;

/**
 * The saved endpoint {id, secret, url}, or null when there is none. A file
 * that is there but is not one throws: silently registering anew would
 * drop the old endpoint's pending deliveries.
 */
export function loadEndpoint(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') {
      return null;
    }
    throw err;
  }
  let saved;
  try {
    saved = JSON.parse(text);
  } catch {
    saved = null;
  }
  if (!saved || !/^we_\w+$/.test(saved.id ?? '')
      || !/^whsec_\S+$/.test(saved.secret ?? '')
      || typeof saved.url !== 'string') {
    throw new Error(`${file} is not a saved webhook endpoint`);
  }
  return { id: saved.id, secret: saved.secret, url: saved.url };
}

/** Writes the endpoint durably: a temporary file, fsync, rename; 0600. */
export function saveEndpoint(file, endpoint) {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify({ id: endpoint.id,
      secret: endpoint.secret, url: endpoint.url })}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dir = fs.openSync(path.dirname(path.resolve(file)), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}
