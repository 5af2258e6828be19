/**
 * China's 18-digit resident ID number (GB 11643): 6-digit area code, birth date YYYYMMDD, 3-digit sequence (odd for
 * men, even for women), and an ISO 7064 MOD 11-2 check character (0–9 or X).
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const
const CHECK = '10X98765432'

export const ID_NUMBER_PATTERN = /^\d{17}[\dX]$/

/** The check character for the first 17 digits. */
export function idCheckCharacter(first17: string): string {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!
  return CHECK[sum % 11]!
}

export type IdNumberProblem = 'format' | 'checksum' | 'birthDate'

/** Why an ID number is invalid, or null when it is well formed with a real birth date and the right check digit. */
export function idNumberProblem(id: string): IdNumberProblem | null {
  if (!ID_NUMBER_PATTERN.test(id)) return 'format'
  if (!birthDateOfId(id)) return 'birthDate'
  return idCheckCharacter(id.slice(0, 17)) === id[17] ? null : 'checksum'
}

/** The birth date the number encodes, as YYYY-MM-DD, or null when it is not a real date. */
export function birthDateOfId(id: string): string | null {
  const y = Number(id.slice(6, 10))
  const m = Number(id.slice(10, 12))
  const d = Number(id.slice(12, 14))
  if (y < 1900 || m < 1 || m > 12 || d < 1) return null
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate()
  if (d > days) return null
  return `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`
}

export function genderOfId(id: string): 'male' | 'female' {
  return Number(id[16]) % 2 === 1 ? 'male' : 'female'
}
