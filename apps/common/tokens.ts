// API bearer tokens per role, parsed from TAPEDECK_API_TOKENS (`role:token,role:token`).
export const API_ROLES = ['livestream-service', 'reviewer', 'moderation'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface ApiToken {
  role: ApiRole;
  token: string;
}

const MIN_TOKEN_LENGTH = 16;

export function parseApiTokens(raw: string): ApiToken[] {
  const tokens: ApiToken[] = [];
  const entries = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error('must list at least one role:token pair');
  entries.forEach((entry, i) => {
    const sep = entry.indexOf(':');
    // Never echo the token itself in an error: only its position and role.
    if (sep < 0) throw new Error(`entry ${i + 1} is not role:token`);
    const role = entry.slice(0, sep);
    const token = entry.slice(sep + 1);
    if (!(API_ROLES as readonly string[]).includes(role)) {
      throw new Error(`entry ${i + 1}: "${role}" is not a role (${API_ROLES.join(', ')})`);
    }
    if (token.length < MIN_TOKEN_LENGTH) throw new Error(`entry ${i + 1} (${role}): token shorter than ${MIN_TOKEN_LENGTH} characters`);
    if (!/^[\x21-\x7e]+$/.test(token)) throw new Error(`entry ${i + 1} (${role}): token has characters outside printable ASCII`);
    tokens.push({ role: role as ApiRole, token });
  });
  const seen = new Set<string>();
  for (const t of tokens) {
    if (seen.has(t.token)) throw new Error('the same token is listed twice');
    seen.add(t.token);
  }
  return tokens;
}
