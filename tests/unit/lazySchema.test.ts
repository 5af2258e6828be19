import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { lazySchema } from '../../src/shared/schemas/lazySchema.ts'

describe('lazySchema', () => {
  it('builds its schema on first use only, once', () => {
    let builds = 0
    const point = lazySchema(() => {
      builds++
      return z.strictObject({ lat: z.number(), lng: z.number() })
    })
    expect(builds).toBe(0)
    expect(point.safeParse({ lat: 1, lng: 2 }).success).toBe(true)
    expect(point.safeParse({ lat: 1 }).success).toBe(false)
    expect(point.parse({ lat: 3, lng: 4 })).toEqual({ lat: 3, lng: 4 })
    expect(builds).toBe(1)
  })

  it('works nested in other schemas, extended, made partial, and with z.infer', () => {
    const grid = lazySchema(() => z.string().regex(/^\d{15}$/, '网格编码应为15位数字'))
    const household = lazySchema(() => z.strictObject({ gridId: grid, address: z.string().min(1) }))
    const withPhone = lazySchema(() => household.extend({ phone: z.string().nullable() }))
    const patch = lazySchema(() => household.partial())
    const union = lazySchema(() =>
      z.discriminatedUnion('type', [z.object({ type: z.literal('a'), household })]),
    )
    type Household = z.infer<typeof household>
    const value: Household = { gridId: '110101001001001', address: '东街1号' }

    expect(household.parse(value)).toEqual(value)
    const wrongGrid = household.safeParse({ ...value, gridId: '1' })
    expect(wrongGrid.success ? null : wrongGrid.error.issues[0]?.message).toBe('网格编码应为15位数字')
    expect(withPhone.parse({ ...value, phone: null })).toEqual({ ...value, phone: null })
    expect(patch.parse({ address: '西街2号' })).toEqual({ address: '西街2号' })
    expect(patch.safeParse({ unknown: 1 }).success).toBe(false)
    expect(union.parse({ type: 'a', household: value })).toEqual({ type: 'a', household: value })
    expect(Object.keys(household.shape)).toEqual(['gridId', 'address'])
  })
})
