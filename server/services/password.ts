import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Uint8Array,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>

/** scrypt cost (2^15 × r=8: 32 MiB, ~0.1 s here). The accounts issue moves to argon2id. */
const LOG_N = 15
const R = 8
const P = 1
const KEY_LENGTH = 32
const FORMAT = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/

const maxmem = (logN: number, r: number) => 128 * r * 2 ** logN + 1024 * 1024

/**
 * A self-describing hash, `scrypt$ln=15,r=8,p=1$<salt>$<key>` (base64url), so the cost can change later and old
 * hashes still verify. `salt` (16 bytes) is random unless given (the seed passes its own for determinism); a lower
 * `logN` is for tests only.
 */
export async function hashPassword(
  password: string,
  { salt = randomBytes(16), logN = LOG_N }: { salt?: Uint8Array; logN?: number } = {},
): Promise<string> {
  const key = await scryptAsync(password.normalize('NFC'), salt, KEY_LENGTH, {
    N: 2 ** logN,
    r: R,
    p: P,
    maxmem: maxmem(logN, R),
  })
  return `scrypt$ln=${logN},r=${R},p=${P}$${Buffer.from(salt).toString('base64url')}$${key.toString('base64url')}`
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const match = FORMAT.exec(encoded)
  if (!match) return false
  const [, ln, r, p, salt, key] = match as unknown as [string, string, string, string, string, string]
  const logN = Number(ln)
  if (logN < 10 || logN > 20) return false
  const expected = Buffer.from(key, 'base64url')
  const actual = await scryptAsync(
    password.normalize('NFC'),
    Buffer.from(salt, 'base64url'),
    expected.length,
    {
      N: 2 ** logN,
      r: Number(r),
      p: Number(p),
      maxmem: maxmem(logN, Number(r)),
    },
  )
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
