import type { Viewer } from './viewer.js';

/** Verifies a bearer token; rejects with UnauthenticatedError on any problem. */
export interface TokenVerifier {
  verify(token: string): Promise<Viewer & { expiresAt: Date }>;
}
