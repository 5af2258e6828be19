import { describe, expect, it, vi } from 'vitest'
import { buildRecordPopup } from '../../src/components/map/buildRecordPopup.ts'
import { translateMessage } from '../../src/components/form/fieldErrors.ts'
import { createAppI18n } from '../../src/i18n/index.ts'

describe('map popups', () => {
  it('show user text as text, never as HTML', () => {
    const onOpen = vi.fn()
    const hostile = '<img src=x onerror="window.__pwned=1">'
    const popup = buildRecordPopup(document, {
      kindLabel: '事件',
      title: hostile,
      subtitle: '<b>粗体</b>',
      openLabel: '查看详情',
      onOpen,
    })
    expect(popup.querySelector('img')).toBeNull()
    expect(popup.querySelector('b')).toBeNull()
    expect(popup.querySelector('.gp-popup-title')?.textContent).toBe(hostile)
    popup.querySelector('button')?.click()
    expect(onOpen).toHaveBeenCalledTimes(1)
  })
})

describe('validation messages', () => {
  it('word the shared schema messages in the chosen language', () => {
    const en = createAppI18n('en').global.t
    const zh = createAppI18n('zh-CN').global.t
    expect(translateMessage('不能为空', en)).toBe('Required')
    expect(translateMessage('手机号应为11位数字', en)).toBe('A mobile number has 11 digits')
    expect(translateMessage('最多50个字', en)).toBe('At most 50 characters')
    expect(translateMessage('最多50个字', zh)).toBe('最多50个字')
    expect(translateMessage('Invalid option: expected one of "a"|"b"', zh, { code: 'invalid_value' })).toBe(
      '请选择',
    )
    expect(translateMessage('Invalid input', zh, { code: 'invalid_type', expected: 'number' })).toBe(
      '请输入正确的数字',
    )
  })
})
