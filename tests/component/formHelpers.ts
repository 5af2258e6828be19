import { expect, vi } from 'vitest'
import type { VueWrapper } from '@vue/test-utils'

/** The error message Vant shows under the field holding `[data-testid=field-<name>]` ('' when none). */
export function errorOf(wrapper: VueWrapper, name: string): string {
  const control = wrapper.get(`[data-testid="field-${name}"]`).element
  const field = control.closest('.van-field')
  return field?.querySelector('.van-field__error-message')?.textContent?.trim() ?? ''
}

export async function fill(wrapper: VueWrapper, name: string, value: string): Promise<void> {
  await wrapper.get(`[data-testid="field-${name}"]`).setValue(value)
}

/** Wait until the areas store's live query has delivered the user's grids to the form. */
export async function gridsShown(wrapper: VueWrapper): Promise<void> {
  await vi.waitFor(() => expect(wrapper.findAll('[data-testid^="field-gridId-"]').length).toBeGreaterThan(0))
}
