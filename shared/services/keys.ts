import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ID_PREFIX, newId } from '../model/ids.ts';
import type { Principal, Scope } from '../model/principal.ts';
import { getKey, putKey, type ApiKeyRecord } from '../store/keys.ts';
import { conflict } from '../model/errors.ts';

/**
 * API keys look like `sk.key_<ulid>.<secret>`: the id prefix finds the record
 * with one GetItem, the secret is compared by hash in constant time.
 * A key chosen by an operator (SLUICE_API_KEY) has no id inside, so its id is
 * derived from its hash instead.
 */
const KEY_FORMAT = /^sk\.(key_[0-9A-HJKMNP-TV-Z]{26})\.([A-Za-z0-9_-]{43})$/;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export function keyIdOf(presented: string): string {
  const match = KEY_FORMAT.exec(presented);
  if (match) return match[1];
  const base32 = BigInt(`0x${sha256(presented).slice(0, 32)}`).toString(32).toUpperCase().padStart(26, '0').slice(-26);
  return `${ID_PREFIX.key}_${base32.replace(/[ILOU]/g, 'X')}`;
}

export interface CreatedKey {
  record: ApiKeyRecord;
  key: string;
}

export async function createKey(input: { solutionId: string; name: string; scopes: Scope[]; key?: string }): Promise<CreatedKey> {
  const id = input.key ? keyIdOf(input.key) : newId('key');
  const key = input.key ?? `sk.${id}.${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = {
    id,
    name: input.name,
    solutionId: input.solutionId,
    scopes: input.scopes,
    hash: sha256(key),
    createdAt: new Date().toISOString(),
  };
  if (!(await putKey(record))) throw conflict(`API key ${id} already exists`);
  return { record, key };
}

/** The principal of a presented key, or undefined for an unknown or revoked key. */
export async function authenticate(presented: string | undefined): Promise<Principal | undefined> {
  if (!presented || presented.length > 512) return undefined;
  const record = await getKey(keyIdOf(presented));
  if (!record) return undefined;
  const expected = Buffer.from(record.hash, 'hex');
  const actual = Buffer.from(sha256(presented), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  return { keyId: record.id, solutionId: record.solutionId, scopes: record.scopes };
}

/** The key in any of the three header forms of API.md. */
export function presentedKey(headers: Record<string, string | undefined>): string | undefined {
  const apiKey = headers['x-api-key']?.trim();
  if (apiKey) return apiKey;
  const authorization = headers.authorization?.trim();
  if (!authorization) return undefined;
  const match = /^(Bearer|ModeCloud)\s+(.+)$/i.exec(authorization);
  return match?.[2].trim();
}
