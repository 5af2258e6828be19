import type { RecordKind } from '#shared/schemas/records.ts'

type Translate = (key: string, named?: Record<string, unknown>) => string

export interface RecordSummary {
  title: string
  subtitle: string
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

function enumLabel(t: Translate, group: string, value: unknown): string {
  return typeof value === 'string' && value ? t(`enums.${group}.${value}`) : ''
}

/** The main text of a record for lists and map popups: plain strings, to be set as text, never as HTML. */
export function describeRecord(
  kind: RecordKind,
  fields: Record<string, unknown>,
  t: Translate,
): RecordSummary {
  if (kind === 'household') {
    const address = [str(fields.address), str(fields.houseNumber)].filter(Boolean).join(' ')
    const members = typeof fields.memberCount === 'number' ? t('list.members', { n: fields.memberCount }) : ''
    return {
      title: address || t('list.noAddress'),
      subtitle: [str(fields.headName), enumLabel(t, 'housing', fields.housing), members]
        .filter(Boolean)
        .join(' · '),
    }
  }
  if (kind === 'place') {
    return {
      title: str(fields.name) || t('list.noAddress'),
      subtitle: [enumLabel(t, 'placeType', fields.type), str(fields.address)].filter(Boolean).join(' · '),
    }
  }
  if (kind === 'person') {
    return {
      title: str(fields.name) || t('kinds.person'),
      subtitle: [
        enumLabel(t, 'relation', fields.relation),
        enumLabel(t, 'gender', fields.gender),
        str(fields.birthDate),
      ]
        .filter(Boolean)
        .join(' · '),
    }
  }
  if (kind === 'visit') {
    const at = typeof fields.visitedAt === 'number' ? new Date(fields.visitedAt).toLocaleDateString() : ''
    return { title: at || t('kinds.visit'), subtitle: str(fields.notes) }
  }
  if (kind === 'track' || kind === 'photo') return { title: t(`kinds.${kind}`), subtitle: '' }
  const sub =
    typeof fields.subcategory === 'string' && fields.subcategory
      ? t(`incident.subcategories.${fields.subcategory}`)
      : ''
  return {
    title: [enumLabel(t, 'category', fields.category) || t('kinds.incident'), sub]
      .filter(Boolean)
      .join(' · '),
    subtitle: str(fields.description),
  }
}

/** Lower-cased text a list search matches against. */
export function searchableText(kind: RecordKind, fields: Record<string, unknown>): string {
  const keys: Record<RecordKind, string[]> = {
    household: ['address', 'houseNumber', 'headName', 'headPhone', 'notes'],
    place: ['name', 'address', 'contactName', 'contactPhone', 'notes'],
    incident: ['description'],
    person: ['name', 'idNumber', 'phone'],
    visit: ['notes'],
    track: [],
    photo: [],
  }
  return keys[kind]
    .map((key) => str(fields[key]))
    .join('\n')
    .toLowerCase()
}
