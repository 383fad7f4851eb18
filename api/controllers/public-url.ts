import type { Request } from 'express';

/**
 * Where the absolute URLs of answers point: `status_url`, crop links. A job records the base chosen for the
 * request that submitted it, so that its callback carries the links a poll of it would.
 */
export type PublicBase = (req: Request) => string;

export interface PublicBaseOptions {
  /** PUBLIC_BASE_URL. */
  configured: string | undefined;
  /** Whether a trusted proxy's X-Forwarded-Proto and X-Forwarded-Host are believed (TRUST_PROXY). */
  trustProxy: boolean;
  /** The address the gateway listens on, known once it does. */
  listening: () => string;
}

/**
 * PUBLIC_BASE_URL when set. Otherwise the scheme and host a trusted proxy forwarded, and failing that the
 * address the gateway listens on. The Host header is never used: anyone can send any Host, and links built
 * from it would point wherever the sender likes.
 */
export function publicBase({ configured, trustProxy, listening }: PublicBaseOptions): PublicBase {
  return (req) => {
    if (configured) return configured;
    const forwarded = req.get('x-forwarded-host')?.split(',')[0]?.trim();
    if (trustProxy && forwarded && fromTrustedProxy(req)) return `${req.protocol}://${forwarded}`;
    return listening();
  };
}

/** Whether the connection's peer is one of the proxies TRUST_PROXY names (Express's own trust function). */
function fromTrustedProxy(req: Request): boolean {
  const trust = req.app.get('trust proxy fn') as ((address: string, hop: number) => boolean) | undefined;
  const peer = req.socket.remoteAddress;
  return peer !== undefined && trust !== undefined && trust(peer, 0);
}
