import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { enableAutoUnmount, type VueWrapper } from '@vue/test-utils'
import IncidentForm from '../../src/components/incident/IncidentForm.vue'
import { dropStagedPhotos } from '../../src/db/photoStore.ts'
import { setServices } from '../../src/stores/services.ts'
import { useRecordsStore } from '../../src/stores/useRecordsStore.ts'
import { mountWith, setupEnv, type TestEnv } from './harness.ts'
import { fill, gridsShown } from './formHelpers.ts'

// Saving goes through several IndexedDB round trips; on a loaded 2-core CI box the default 5 s is tight.
vi.setConfig({ testTimeout: 20_000 })
enableAutoUnmount(afterEach)

let env: TestEnv
beforeEach(async () => {
  env = await setupEnv()
  // jsdom has no image decoding: "shrink" to the file's own bytes.
  setServices({
    shrinkImage: async (file) => ({
      data: await file.arrayBuffer(),
      mime: 'image/jpeg',
      width: 1600,
      height: 1200,
    }),
  })
})
afterEach(async () => {
  document.body.innerHTML = ''
  await env.close()
})

async function mountNewIncident(): Promise<VueWrapper> {
  const { wrapper } = mountWith(IncidentForm, env, { props: {} })
  await gridsShown(wrapper)
  return wrapper as VueWrapper
}

async function choosePhoto(wrapper: VueWrapper, bytes: number[]) {
  const input = wrapper.get<HTMLInputElement>('[data-testid="photo-input"]')
  const file = new File([new Uint8Array(bytes)], 'p.jpg', { type: 'image/jpeg' })
  Object.defineProperty(input.element, 'files', { configurable: true, value: [file] })
  await input.trigger('change')
}

const stateTexts = (wrapper: VueWrapper) =>
  wrapper.findAll('[data-testid="photo-state"]').map((node) => node.text())

describe('photos taken before the first save', () => {
  it("are kept at once but not uploaded, survive in the draft, and become the record's photos on save", async () => {
    const first = await mountNewIncident()
    await choosePhoto(first, [1, 2, 3])
    await vi.waitFor(() => expect(stateTexts(first)).toEqual(['保存后上传']))
    const [blob] = await env.db.photoBlobs.toArray()
    expect(blob).toMatchObject({ staged: 1, bytes: 3 })
    // Not in the uploader's queue (the `uploaded` index) while no record refers to it.
    expect(await env.db.photoBlobs.where('uploaded').equals(0).count()).toBe(0)
    await fill(first, 'description', '河道有垃圾堆积')
    await vi.waitFor(async () => {
      const draft = await env.db.drafts.get('incident:new:')
      expect(draft?.fields['photos']).toEqual([expect.objectContaining({ sha256: blob!.sha256 })])
    })
    first.unmount()

    // A reload: the form comes back with its text and its photo.
    const again = await mountNewIncident()
    await vi.waitFor(() => expect(stateTexts(again)).toEqual(['保存后上传']))
    await again.get('[data-testid="field-category-environment"]').trigger('click')
    await again.get('[data-testid="form-save"]').trigger('click')
    await vi.waitFor(() => expect(again.emitted('saved')).toHaveLength(1), { timeout: 15_000 })
    const [id] = again.emitted('saved')![0] as [string]
    const photos = await env.db.records.where('[kind+parentId]').equals(['photo', id]).toArray()
    expect(photos.map((photo) => photo.fields)).toEqual([
      expect.objectContaining({ ownerKind: 'incident', ownerId: id, sha256: blob!.sha256, bytes: 3 }),
    ])
    expect(await env.db.photoBlobs.get(blob!.sha256)).not.toHaveProperty('staged')
    expect(await env.db.photoBlobs.where('uploaded').equals(0).primaryKeys()).toEqual([blob!.sha256])
    // The record and the photo record each have their op.
    expect((await env.db.outbox.toArray()).map((op) => op.kind).sort()).toEqual(['incident', 'photo'])
  })

  it('are dropped when taken back or when the draft is discarded; one no draft lists by the sweep', async () => {
    const form = await mountNewIncident()
    await choosePhoto(form, [4, 5])
    await vi.waitFor(() => expect(stateTexts(form)).toHaveLength(1))
    await form.get('[data-testid="photo-remove"]').trigger('click')
    await vi.waitFor(() => expect(stateTexts(form)).toEqual([]))
    await vi.waitFor(async () => expect(await env.db.photoBlobs.count()).toBe(0))

    await choosePhoto(form, [6, 7])
    await fill(form, 'description', '路灯不亮')
    await vi.waitFor(async () => {
      const draft = await env.db.drafts.get('incident:new:')
      expect(draft?.fields['photos']).toHaveLength(1)
    })
    form.unmount()
    const again = await mountNewIncident()
    await vi.waitFor(() => expect(again.find('[data-testid="draft-discard"]').exists()).toBe(true))
    await again.get('[data-testid="draft-discard"]').trigger('click')
    await vi.waitFor(async () => expect(await env.db.photoBlobs.count()).toBe(0))
    expect(stateTexts(again)).toEqual([])

    // A staged photo no draft lists (its form was lost in a crash before the draft was written) is swept.
    const records = useRecordsStore(env.pinia)
    await records.stagePhoto(new Blob([new Uint8Array([8])]))
    expect(await env.db.photoBlobs.count()).toBe(1)
    expect(await dropStagedPhotos(env.db)).toBe(1)
    expect(await env.db.photoBlobs.count()).toBe(0)
  })
})
