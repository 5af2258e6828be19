/**
 * Incident categories: the top level is stored in `category`, the sub-category in `subcategory` as `top.sub`.
 * Labels live in the i18n files under `incident.subcategories.<code>`.
 */
import type { INCIDENT_CATEGORIES } from '../schemas/records.ts'

type Category = (typeof INCIDENT_CATEGORIES)[number]

export const INCIDENT_SUBCATEGORIES: Record<Category, readonly string[]> = {
  dispute: [
    'dispute.neighbour',
    'dispute.family',
    'dispute.land',
    'dispute.labour',
    'dispute.debt',
    'dispute.other',
  ],
  safety: [
    'safety.fire',
    'safety.building',
    'safety.road',
    'safety.water',
    'safety.geology',
    'safety.gas',
    'safety.other',
  ],
  order: ['order.theft', 'order.fraud', 'order.gambling', 'order.fight', 'order.other'],
  environment: [
    'environment.garbage',
    'environment.sewage',
    'environment.burning',
    'environment.construction',
    'environment.other',
  ],
  livelihood: [
    'livelihood.welfare',
    'livelihood.medical',
    'livelihood.education',
    'livelihood.infrastructure',
    'livelihood.other',
  ],
  care: ['care.elderly', 'care.children', 'care.disabled', 'care.mental', 'care.other'],
  other: ['other.other'],
}

export function isSubcategoryOf(category: string, subcategory: string): boolean {
  return (
    (INCIDENT_SUBCATEGORIES as Record<string, readonly string[] | undefined>)[category]?.includes(
      subcategory,
    ) ?? false
  )
}
