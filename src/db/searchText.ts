/**
 * What a record is searched by, derived from its fields on every write (local edits and pull pages both go through
 * recordWithState, and the in-memory SearchIndex reads the same functions), so search never lags behind a record:
 * - the searchable text of a kind (names, addresses, phones, ID numbers), lower-cased; a query term matches when it
 *   occurs anywhere in it, so a name or address fragment, an ID-number prefix and a phone suffix all match;
 * - `dupKey`, the one value a likely duplicate shares (a household's normalized address, a member's ID number),
 *   kept in the in-memory SearchIndex for the duplicate check before a save;
 * - `parentId`: the household of a member, the target of a visit, the owner of a photo, stored on the record for
 *   the [kind+parentId] IndexedDB index; absent on records that have none, so they make no entry in it.
 */
import type { RecordKind } from '#shared/schemas/records.ts'
import type { Fields } from '#shared/sync/merge.ts'

/** The text fields searched per kind (phones and ID numbers included). */
const SEARCHED_FIELDS: Partial<Record<RecordKind, readonly string[]>> = {
  household: ['headName', 'address', 'houseNumber', 'headPhone'],
  place: ['name', 'address', 'contactName', 'contactPhone'],
  person: ['name', 'phone', 'idNumber'],
  incident: ['description'],
  visit: ['notes'],
}
/** Long free text (incident descriptions, visit notes) is searched on its beginning only, to keep memory small. */
const MAX_SEARCHED_CHARS = 200
/** Separates fields, so a term never matches across two of them. */
const SEPARATOR = '\u0000'

function str(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

/** The lower-cased searchable text of a record ('' for a kind that has none). */
export function searchTextOf(kind: RecordKind, fields: Fields): string {
  const names = SEARCHED_FIELDS[kind]
  if (!names) return ''
  return names.map((name) => str(fields[name]).slice(0, MAX_SEARCHED_CHARS).toLowerCase()).join(SEPARATOR)
}

/** The lower-cased terms of a query: its runs of letters and digits (横山村12号 stays one term: 2号 is not 12号). */
export function queryTerms(query: string): string[] {
  return query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []
}

/** Whether every term occurs in the searchable text. */
export function matchesTerms(text: string, terms: readonly string[]): boolean {
  for (const term of terms) if (!text.includes(term)) return false
  return true
}

/** The address as the duplicate check compares it: no white space, lower case. */
export function normalizedAddress(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\s+/g, '').toLowerCase() : ''
}

/** The value likely duplicates share, or undefined (then the record is nobody's duplicate). */
export function dupKeyOf(kind: RecordKind, fields: Fields): string | undefined {
  if (kind === 'household') return normalizedAddress(fields['address']).slice(0, 200) || undefined
  if (kind === 'person') {
    // A masked number (3305**********1234) is not compared: two people may share its visible digits.
    const idNumber = normalizedAddress(fields['idNumber'])
    return /^\d{17}[\dx]$/.test(idNumber) ? idNumber : undefined
  }
  return undefined
}

/** The household of a member, the target of a visit, the owner of a photo; '' for a record without a parent. */
export function parentIdOf(kind: RecordKind, fields: Fields): string {
  if (kind === 'person') return str(fields['householdId'])
  if (kind === 'visit') return str(fields['targetId'])
  if (kind === 'photo') return str(fields['ownerId'])
  return ''
}
