/**
 * Search keys for the multiEntry `searchTokens` index, derived from a record's fields on EVERY write (local edits and
 * pull pages both go through recordWithState), so the index can never lag behind the record.
 *
 * A key is `kind|token`, so one index serves every kind and a lookup never reads other kinds' keys.
 * - Latin letters and digits: the whole lower-cased run (a prefix query uses the index's startsWith).
 * - Chinese (and other non-Latin) runs: every 1–3 character substring, so a query finds a name or an address
 *   segment from any of its characters; a longer query looks up its first 3 characters and is then checked
 *   against the full text (`matchesQuery`).
 * - ID numbers: the prefixes of 6, 10, 14 and 18 characters (area, birth year-month, birth date, whole number).
 * - Phones: the whole number and its last 4 digits.
 * - Households: `@` + the whole normalized address (ADDRESS_KEY), for the duplicate check in one exact lookup; no
 *   query term starts with `@`, so search never meets it.
 * A tombstone has no keys.
 */
import type { RecordKind } from '#shared/schemas/records.ts'
import type { Fields } from '#shared/sync/merge.ts'

/** The text fields searched per kind (ID numbers and phones are handled apart). */
const TEXT_FIELDS: Partial<Record<RecordKind, readonly string[]>> = {
  household: ['headName', 'address', 'houseNumber'],
  place: ['name', 'address', 'contactName'],
  person: ['name'],
  incident: ['description'],
}
const PHONE_FIELDS: Partial<Record<RecordKind, readonly string[]>> = {
  household: ['headPhone'],
  place: ['contactPhone'],
  person: ['phone'],
}
const ID_PREFIX_LENGTHS = [6, 10, 14, 18]
/** Long free text (incident descriptions) is indexed on its beginning only, to keep the index small. */
const MAX_INDEXED_CHARS = 60

const RUN = /[\p{L}\p{N}]+/gu
const LATIN_RUN = /^[a-z0-9]+$/

function runsOf(text: string): string[] {
  return text.toLowerCase().match(RUN) ?? []
}

function splitRun(run: string): string[] {
  // Split a mixed run (横山村12号) into Latin/digit parts and the rest.
  return run.match(/[a-z0-9]+|[^a-z0-9]+/g) ?? []
}

function textTokens(text: string, into: Set<string>): void {
  for (const run of runsOf(text.slice(0, MAX_INDEXED_CHARS))) {
    for (const part of splitRun(run)) {
      if (LATIN_RUN.test(part)) {
        into.add(part)
        continue
      }
      const chars = [...part]
      for (let start = 0; start < chars.length; start++) {
        for (let length = 1; length <= 3 && start + length <= chars.length; length++) {
          into.add(chars.slice(start, start + length).join(''))
        }
      }
    }
  }
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

/** The address as the duplicate check compares it: no white space, lower case. */
export function normalizedAddress(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\s+/g, '').toLowerCase() : ''
}

/** The index key of a household's whole address. */
export function addressKey(address: unknown): string | null {
  const normalized = normalizedAddress(address)
  return normalized ? `household|@${normalized.slice(0, 200)}` : null
}

/** The bare tokens of a record (without the kind prefix). */
export function tokensOf(kind: RecordKind, fields: Fields): string[] {
  const tokens = new Set<string>()
  for (const name of TEXT_FIELDS[kind] ?? []) textTokens(str(fields[name]), tokens)
  for (const name of PHONE_FIELDS[kind] ?? []) {
    const phone = str(fields[name])
    if (/^\d{11}$/.test(phone)) {
      tokens.add(phone)
      tokens.add(phone.slice(-4))
    } else if (/\d{4}$/.test(phone)) tokens.add(phone.slice(-4))
  }
  if (kind === 'household' && normalizedAddress(fields['address'])) {
    tokens.add(`@${normalizedAddress(fields['address']).slice(0, 200)}`)
  }
  const idNumber = str(fields['idNumber']).toLowerCase()
  if (kind === 'person' && /^\d{6}/.test(idNumber)) {
    for (const length of ID_PREFIX_LENGTHS)
      if (idNumber.length >= length) tokens.add(idNumber.slice(0, length))
  }
  return [...tokens]
}

function parentIdOf(kind: RecordKind, fields: Fields): string {
  if (kind === 'person') return str(fields['householdId'])
  if (kind === 'visit') return str(fields['targetId'])
  if (kind === 'photo') return str(fields['ownerId'])
  return ''
}

/** The derived, indexed columns of a record. */
export function derivedColumns(
  kind: RecordKind,
  fields: Fields,
  deleted: 0 | 1,
): { searchTokens: string[]; parentId: string } {
  const searchTokens = deleted ? [] : tokensOf(kind, fields).map((token) => `${kind}|${token}`)
  return { searchTokens, parentId: parentIdOf(kind, fields) }
}

/** The lower-cased terms of a query. */
export function queryTerms(query: string): string[] {
  return runsOf(query.trim()).flatMap(splitRun)
}

export interface Lookup {
  key: string
  /** A Latin/digit key is a prefix (`startsWith`); a Chinese key is an exact token (`equals`). */
  prefix: boolean
}

/**
 * The index keys a query can be looked up with, one per term and, for a Chinese term longer than 3 characters, one
 * per 3-character window (every substring up to 3 is indexed, so an exact token finds it and reads no longer ones).
 * Every record matching the query holds each of them; the caller picks the rarest. Empty for an empty query.
 */
export function lookupKeys(kind: RecordKind, terms: readonly string[]): Lookup[] {
  const keys = new Map<string, Lookup>()
  for (const term of terms) {
    if (LATIN_RUN.test(term)) {
      keys.set(term, { key: `${kind}|${term}`, prefix: true })
      continue
    }
    const chars = [...term]
    for (let start = 0; start + Math.min(3, chars.length) <= chars.length; start++) {
      const token = chars.slice(start, start + 3).join('')
      keys.set(token, { key: `${kind}|${token}`, prefix: false })
    }
  }
  return [...keys.values()]
}

/** Whether every term of a query occurs in the record's searchable text (or matches its phone suffix/ID prefix). */
export function matchesQuery(kind: RecordKind, fields: Fields, terms: readonly string[]): boolean {
  if (terms.length === 0) return true
  const parts: string[] = []
  for (const name of TEXT_FIELDS[kind] ?? []) parts.push(str(fields[name]))
  for (const name of PHONE_FIELDS[kind] ?? []) parts.push(str(fields[name]))
  if (kind === 'person') parts.push(str(fields['idNumber']))
  const haystack = parts.join('\u0000').toLowerCase()
  return terms.every((term) => haystack.includes(term))
}
