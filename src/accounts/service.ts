import { VigilError } from '../errors.js';
import type { Store, UserRow } from '../store/index.js';
import type { Clock } from '../clock.js';
import { hashPassword, hashSecret, newSecret, verifyPassword } from './secrets.js';
import { isEmail, isPasswordLength, normalizeEmail, PASSWORD_LENGTH } from './rules.js';

export const Roles = ['admin', 'member'] as const;
export type Role = (typeof Roles)[number];

export interface User {
  readonly id: number;
  readonly email: string;
  readonly role: Role;
  readonly createdAt: number;
}

function toUser(row: Pick<UserRow, 'id' | 'email' | 'role' | 'created_at'>): User {
  return { id: row.id, email: row.email, role: row.role as Role, createdAt: row.created_at };
}

/** Users, passwords and personal API tokens. */
export class AccountsService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async countUsers(): Promise<number> {
    const row = await this.store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Creates a user; refuses a malformed email, a short password or a taken email. */
  async createUser(input: { email: string; password: string; role?: Role }): Promise<User> {
    const email = normalizeEmail(input.email);
    if (!isEmail(email)) throw new VigilError('invalid_field', `email: "${input.email}" is not an email address`, 'email');
    if (!isPasswordLength(input.password)) {
      throw new VigilError('invalid_field', `password: must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters`, 'password');
    }
    const role = input.role ?? 'member';
    if (!Roles.includes(role)) throw new VigilError('invalid_field', `role: expected ${Roles.join(' or ')}`, 'role');
    const existing = await this.store.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    if (existing) throw new VigilError('conflict', `a user with email ${email} already exists`, 'email');
    const row = await this.store.db
      .insertInto('users')
      .values({ email, password_hash: await hashPassword(input.password), role, created_at: this.clock.now() })
      .returning(['id', 'email', 'role', 'created_at'])
      .executeTakeFirstOrThrow();
    return toUser(row);
  }

  /** Creates the first admin from configuration when no user exists yet; returns it, or null. */
  async ensureFirstAdmin(email: string | undefined, password: string | undefined): Promise<User | null> {
    if (!email || !password) return null;
    if ((await this.countUsers()) > 0) return null;
    return this.createUser({ email, password, role: 'admin' });
  }

  async findUserByEmail(email: string): Promise<User | null> {
    const row = await this.store.db
      .selectFrom('users')
      .select(['id', 'email', 'role', 'created_at'])
      .where('email', '=', email.trim().toLowerCase())
      .executeTakeFirst();
    return row ? toUser(row) : null;
  }

  /** Checks an email and password; the same error whether the user or the password is wrong. */
  async login(email: string, password: string): Promise<User> {
    const row = await this.store.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email.trim().toLowerCase())
      .executeTakeFirst();
    if (!row || !(await verifyPassword(password, row.password_hash))) {
      throw new VigilError('invalid_credentials', 'wrong email or password');
    }
    return toUser(row);
  }

  /** Creates a personal API token; the token itself is returned only here. */
  async createToken(userId: number, name: string): Promise<{ id: number; name: string; token: string }> {
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 100) {
      throw new VigilError('invalid_field', 'name: must be 1 to 100 characters', 'name');
    }
    const token = newSecret('vgl');
    const row = await this.store.db
      .insertInto('api_tokens')
      .values({ user_id: userId, name: trimmed, token_hash: hashSecret(token), created_at: this.clock.now(), last_used_at: null })
      .returning(['id', 'name'])
      .executeTakeFirstOrThrow();
    return { id: row.id, name: row.name, token };
  }

  /** The user a bearer token belongs to, or null. */
  async authenticateToken(token: string): Promise<User | null> {
    const row = await this.store.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .select(['users.id', 'users.email', 'users.role', 'users.created_at'])
      .where('api_tokens.token_hash', '=', hashSecret(token))
      .executeTakeFirst();
    return row ? toUser(row) : null;
  }
}
