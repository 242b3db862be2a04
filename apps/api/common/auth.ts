// Bearer-token auth per role (contract table). Every route states who may call it: @Roles(...)
// or @Public(); a route with neither is refused, so a forgotten decorator fails closed.
// Tokens are compared as SHA-256 digests with timingSafeEqual (equal lengths, constant time) and
// every configured token is checked, so timing reveals neither a token nor which role matched.
import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request } from 'express';
import type { ApiRole, ApiToken } from '../../common/tokens';
import type { ApiConfig } from '../config';
import { API_CONFIG } from '../tokens';
import { DomainError } from './errors';
import { ErrorDto } from './error.dto';

const ROLES = 'tapedeck:roles';
const PUBLIC = 'tapedeck:public';

export const Roles = (...roles: ApiRole[]) =>
  applyDecorators(
    SetMetadata(ROLES, roles),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'missing or unknown bearer token', type: ErrorDto }),
    ApiForbiddenResponse({ description: `token of a role other than ${roles.join(', ')}`, type: ErrorDto }),
  );
export const Public = () => SetMetadata(PUBLIC, true);

/** What the guard learned about the caller; request logs name the role, never the token. */
export interface Caller {
  role: ApiRole;
}

export type AuthedRequest = Request & { caller?: Caller; requestId?: string };

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

@Injectable()
export class BearerAuthGuard implements CanActivate {
  private readonly known: Array<{ role: ApiRole; digest: Buffer }>;

  constructor(
    private readonly reflector: Reflector,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.known = config.tokens.map((t: ApiToken) => ({ role: t.role, digest: digest(t.token) }));
  }

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const allowed = this.reflector.getAllAndOverride<ApiRole[] | undefined>(ROLES, targets);
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const role = this.roleOf(req.headers.authorization);
    if (!role) throw new DomainError('unauthenticated', 'unauthenticated', 'a valid bearer token is required (Authorization: Bearer <token>)');
    req.caller = { role };
    if (!allowed || !allowed.includes(role)) {
      throw new DomainError('forbidden', 'forbidden', `role ${role} may not call this endpoint`, { role, allowed: allowed ?? [] });
    }
    return true;
  }

  private roleOf(header: string | undefined): ApiRole | undefined {
    const m = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header ?? '');
    if (!m) return undefined;
    const presented = digest(m[1]!);
    let role: ApiRole | undefined;
    for (const k of this.known) {
      // No early exit: every token is compared whatever matched before.
      if (timingSafeEqual(presented, k.digest) && role === undefined) role = k.role;
    }
    return role;
  }
}
