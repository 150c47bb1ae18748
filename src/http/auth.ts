import type { FastifyRequest } from 'fastify';
import type { AccountsService, User } from '../accounts/service.js';
import { VigilError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user on `/api/v1` routes. */
    user: User | null;
  }
}

/** `Authorization: Bearer <token>` for personal API tokens. */
export function bearerAuth(accounts: AccountsService) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new VigilError('unauthorized', 'missing "Authorization: Bearer <token>" header');
    const user = await accounts.authenticateToken(match[1]!);
    if (!user) throw new VigilError('unauthorized', 'unknown or revoked API token');
    request.user = user;
  };
}

/** Only admins may manage users. */
export function requireAdmin(request: FastifyRequest): User {
  if (request.user?.role !== 'admin') throw new VigilError('forbidden', 'only an admin may do this');
  return request.user;
}
