import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Prepares `server` for a graceful close and returns the function that performs it: the listening socket
 * closes at once, requests in flight get their answers, and every keep-alive connection ends with its last
 * answer instead of lingering until keepAliveTimeout, during which a client could still send it requests.
 */
export function gracefulClose(server: Server): () => Promise<void> {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    if (closing) res.setHeader('connection', 'close');
    res.once('finish', () => {
      // An answer whose headers went out before the close could not say so: end its connection once idle.
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });
  return () => {
    closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Told before its answer, a keep-alive client sends its next request on a new connection, elsewhere.
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    return closed;
  };
}
