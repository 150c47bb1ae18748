import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Roles, type Role } from '../../accounts/service.js';
import { requireAdmin } from '../auth.js';
import type { Services } from '../services.js';

const UserCreate = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320 }),
    password: Type.String({ minLength: 8, maxLength: 1024 }),
    role: Type.Optional(Type.Union(Roles.map((r) => Type.Literal(r)))),
  },
  { additionalProperties: false },
);
const TokenCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

const userView = (u: { id: number; email: string; role: string; createdAt: number }) => ({
  id: String(u.id),
  email: u.email,
  role: u.role,
  created_at: new Date(u.createdAt).toISOString(),
});

/** The caller, personal API tokens, and (admins) users. Sessions come with the dashboard. */
export function accountRoutes(app: FastifyInstance, services: Services): void {
  app.get('/me', { schema: { tags: ['accounts'] } }, async (request) => userView(request.user!));
  app.post<{ Body: { name: string } }>('/tokens', { schema: { tags: ['accounts'], body: TokenCreate } }, async (request, reply) => {
    const token = await services.accounts.createToken(request.user!.id, request.body.name);
    return reply.status(201).send({ id: String(token.id), name: token.name, token: token.token });
  });
  app.post<{ Body: { email: string; password: string; role?: Role } }>(
    '/users',
    { schema: { tags: ['accounts'], body: UserCreate } },
    async (request, reply) => {
      requireAdmin(request);
      return reply.status(201).send(userView(await services.accounts.createUser(request.body)));
    },
  );
}
