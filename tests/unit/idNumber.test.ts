import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { birthDateOfId, genderOfId, idCheckCharacter, idNumberProblem } from '#shared/domain/idNumber.ts'
import { validateFields } from '#shared/schemas/records.ts'

/** A valid number from its parts (the check character computed the ISO 7064 MOD 11-2 way). */
const idOf = (area: string, date: string, seq: string) => {
  const first17 = `${area}${date.replaceAll('-', '')}${seq}`
  return first17 + idCheckCharacter(first17)
}

describe('resident ID numbers', () => {
  it('accepts the GB 11643 example and reads its birth date and gender', () => {
    const id = '11010519491231002X'
    expect(idNumberProblem(id)).toBeNull()
    expect(birthDateOfId(id)).toBe('1949-12-31')
    expect(genderOfId(id)).toBe('female')
  })

  it('rejects a wrong check digit, a wrong length and an impossible date', () => {
    expect(idNumberProblem('110105194912310021')).toBe('checksum')
    expect(idNumberProblem('1101051949123100')).toBe('format')
    expect(idNumberProblem(idOf('110105', '1990-02-30', '001'))).toBe('birthDate')
  })

  it('detects every single-digit change (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 9 }), (position, delta) => {
        const id = idOf('330523', '1985-06-15', '123')
        const digit = (Number(id[position]) + delta) % 10
        const changed = id.slice(0, position) + digit + id.slice(position + 1)
        expect(idNumberProblem(changed)).not.toBeNull()
      }),
    )
  })
})

describe('household member schema', () => {
  const member = (overrides: Record<string, unknown> = {}) => ({
    gridId: '330523102001001',
    householdId: '0190a000-0000-7000-8000-000000000001',
    name: '潘阿婆',
    gender: 'female',
    birthDate: '1949-12-31',
    idNumber: idOf('110105', '1949-12-31', '002'),
    relation: 'parent',
    populationType: 'registered',
    tags: ['left_behind_elderly'],
    ...overrides,
  })

  it('accepts a consistent member', () => {
    expect(validateFields('person', member(), 'create')).toEqual({ ok: true, fields: expect.any(Object) })
  })

  it('names the field that disagrees with the ID number', () => {
    const wrongDate = validateFields('person', member({ birthDate: '1950-01-01' }), 'create')
    expect(wrongDate).toMatchObject({ ok: false, issue: { field: 'birthDate' } })
    const wrongGender = validateFields('person', member({ gender: 'male' }), 'create')
    expect(wrongGender).toMatchObject({ ok: false, issue: { field: 'gender' } })
    const badCheck = validateFields('person', member({ idNumber: '110105194912310021' }), 'create')
    expect(badCheck).toMatchObject({
      ok: false,
      issue: { field: 'idNumber', message: '身份证号校验位不正确' },
    })
  })

  it('wants a disability grade exactly when the member is tagged 残疾人', () => {
    expect(validateFields('person', member({ tags: ['disabled'] }), 'create')).toMatchObject({
      ok: false,
      issue: { field: 'disabilityGrade' },
    })
    expect(validateFields('person', member({ tags: ['disabled'], disabilityGrade: 2 }), 'create').ok).toBe(
      true,
    )
    expect(validateFields('person', member({ disabilityGrade: 2 }), 'create').ok).toBe(false)
  })

  it('checks an incident sub-category against its category', () => {
    const incident = {
      gridId: '330523102001001',
      category: 'safety',
      subcategory: 'dispute.land',
      description: '桥面开裂',
      urgency: 'urgent',
      status: 'reported',
      reportedAt: 1_760_000_000_000,
    }
    expect(validateFields('incident', incident, 'create')).toMatchObject({
      ok: false,
      issue: { field: 'subcategory' },
    })
    expect(validateFields('incident', { ...incident, subcategory: 'safety.road' }, 'create').ok).toBe(true)
  })
})
