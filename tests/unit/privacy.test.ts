import { describe, expect, it } from 'vitest'
import { isMaskedValue, maskFieldsFor, maskIdNumber, maskPhone } from '#shared/domain/privacy.ts'
import { canOnRecords, coversScope, readableKinds } from '#shared/domain/permissions.ts'
import { validateFields } from '#shared/schemas/records.ts'

describe('masking', () => {
  it('masks phones and ID numbers as DOMAIN.md shows', () => {
    expect(maskPhone('13812341234')).toBe('138****1234')
    expect(maskIdNumber('110101199003071234')).toBe('1101**********1234')
  })

  it('masks by role: workers see phones in clear, leaders and handlers do not', () => {
    const fields = { headName: '王芳', headPhone: '13812341234' }
    expect(maskFieldsFor('worker', 'household', fields).headPhone).toBe('13812341234')
    expect(maskFieldsFor('leader', 'household', fields).headPhone).toBe('138****1234')
    expect(maskFieldsFor('handler', 'household', fields).headPhone).toBe('138****1234')
    expect(maskFieldsFor('leader', 'household', fields).headName).toBe('王芳')
    expect(fields.headPhone).toBe('13812341234')
  })

  it('a masked value can never be written back', () => {
    const masked = maskPhone('13812341234')
    expect(isMaskedValue(masked)).toBe(true)
    const result = validateFields('household', { headPhone: masked }, 'patch')
    expect(result.ok).toBe(false)
  })
})

describe('permissions', () => {
  const scope = {
    gridId: '330523102001001',
    villageId: '330523102001',
    townId: '330523102',
    countyId: '330523',
  }

  it('covers a record through its grid or any ancestor, and nothing else', () => {
    expect(coversScope(['330523102001001'], scope)).toBe(true)
    expect(coversScope(['330523102'], scope)).toBe(true)
    expect(coversScope(['330523'], scope)).toBe(true)
    expect(coversScope(['330523102001002', '330523201'], scope)).toBe(false)
  })

  it('handlers read and update incidents only', () => {
    expect(readableKinds('handler')).toEqual(['incident'])
    expect(canOnRecords('handler', 'update', 'incident')).toBe(true)
    expect(canOnRecords('handler', 'create', 'incident')).toBe(false)
    expect(canOnRecords('handler', 'read', 'household')).toBe(false)
    expect(canOnRecords('worker', 'delete', 'incident')).toBe(false)
    expect(canOnRecords('leader', 'delete', 'incident')).toBe(true)
  })
})
