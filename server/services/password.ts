import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { argon2id, hash, needsRehash, verify } from 'argon2'

/** argon2id cost: memory in KiB, passes, lanes. */
export interface PasswordCost {
  memoryCost: number
  timeCost: number
  parallelism: number
}

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): ~45 ms on this machine's kind. */
export const DEFAULT_PASSWORD_COST: PasswordCost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 }

/** For tests only: ~1 ms a hash. */
export const TEST_PASSWORD_COST: PasswordCost = { memoryCost: 8, timeCost: 1, parallelism: 1 }

/**
 * An argon2id hash in the PHC string format (`$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`), which names its own cost,
 * so the cost can change later and old hashes still verify. `salt` (16 bytes) is random unless given (the seed passes
 * its own for determinism).
 */
export async function hashPassword(
  password: string,
  { salt = randomBytes(16), cost = DEFAULT_PASSWORD_COST }: { salt?: Uint8Array; cost?: PasswordCost } = {},
): Promise<string> {
  return hash(password.normalize('NFC'), {
    type: argon2id,
    ...cost,
    salt: Buffer.from(salt),
  })
}

export interface PasswordCheck {
  ok: boolean
  /** The hash is an old scrypt one or of another cost: store a new hash now that the password is known. */
  needsRehash: boolean
}

/**
 * Verify against an argon2 hash, or a `scrypt$` hash from before the accounts issue (dev databases hold them);
 * either way say whether it should be rehashed with the current cost.
 */
export async function verifyPassword(
  password: string,
  encoded: string,
  cost: PasswordCost = DEFAULT_PASSWORD_COST,
): Promise<PasswordCheck> {
  if (encoded.startsWith('scrypt$')) {
    return { ok: await verifyScrypt(password, encoded), needsRehash: true }
  }
  if (!encoded.startsWith('$argon2')) return { ok: false, needsRehash: false }
  let ok: boolean
  try {
    ok = await verify(encoded, password.normalize('NFC'))
  } catch {
    return { ok: false, needsRehash: false }
  }
  return { ok, needsRehash: ok && (!encoded.startsWith('$argon2id$') || needsRehash(encoded, cost)) }
}

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Uint8Array,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>

const SCRYPT_FORMAT = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/
const maxmem = (logN: number, r: number) => 128 * r * 2 ** logN + 1024 * 1024

/** The walking skeleton's format, `scrypt$ln=15,r=8,p=1$<salt>$<key>`: kept to test the upgrade path. */
export async function hashPasswordScrypt(password: string, logN = 15): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(password.normalize('NFC'), salt, 32, {
    N: 2 ** logN,
    r: 8,
    p: 1,
    maxmem: maxmem(logN, 8),
  })
  return `scrypt$ln=${logN},r=8,p=1$${salt.toString('base64url')}$${key.toString('base64url')}`
}

async function verifyScrypt(password: string, encoded: string): Promise<boolean> {
  const match = SCRYPT_FORMAT.exec(encoded)
  if (!match) return false
  const [, ln, r, p, salt, key] = match as unknown as [string, string, string, string, string, string]
  const logN = Number(ln)
  if (logN < 10 || logN > 20) return false
  const expected = Buffer.from(key, 'base64url')
  const actual = await scryptAsync(
    password.normalize('NFC'),
    Buffer.from(salt, 'base64url'),
    expected.length,
    { N: 2 ** logN, r: Number(r), p: Number(p), maxmem: maxmem(logN, Number(r)) },
  )
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
